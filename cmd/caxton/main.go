// Command caxton runs the Caxton server and drives it.
//
//	caxton serve --config caxton.yaml      run the server
//	caxton deploy echo.wasm --name echo    and every other verb: over its API
//
// The verbs talk to the server's management API (package server) at
// --server (or $CAXTON_SERVER; default http://127.0.0.1:7070) with the
// bearer token --token (or $CAXTON_TOKEN). They print tables for people
// and, with --json, the API's JSON for scripts. Exit codes are stable (see
// `caxton help`).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/caxton-go/caxton/server"
	"github.com/caxton-go/caxton/server/client"
)

// Exit codes scripts can rely on.
const (
	exitOK          = 0
	exitFailed      = 1 // anything else: a server error, an I/O error
	exitUsage       = 2 // bad flags or arguments, a bad config file
	exitUnreachable = 3 // no answer from the server
	exitDenied      = 4 // 401/403: no or a bad token, role or scope too small
	exitNotFound    = 5 // 404: no such agent or dead letter
	exitConflict    = 6 // 409: exists, upgrade in progress, upgrade rolled back
	exitNoAnswer    = 7 // 502/504: the agent did not answer (dead-lettered, timed out)
	exitInvalid     = 8 // 400/413/422: the request or module was refused
)

const usage = `usage: caxton <verb> [flags] [args]

Run the server:
  serve --config caxton.yaml      run a server (see caxton serve --help)

Drive it (flags: --server URL, --token T, --json; $CAXTON_SERVER, $CAXTON_TOKEN):
  deploy FILE.wasm [--name N]     deploy a wasm agent (upload), or --path P on the server
  list                            the agents
  status NAME                     one agent: state, version, replicas, queues, counters, health
  logs NAME [--since 1h] [--follow]
  scale NAME --replicas N
  upgrade NAME FILE.wasm [--strategy blue-green|canary|rolling] [--watch 30s]
  rollback NAME                   give up an upgrade, or go back to the version before
  stop NAME [--force] | start NAME | restart NAME | remove NAME
  send NAME CONTENT [--performative inform]
  request NAME CONTENT [--timeout 30s]
  dlq list | dlq replay ID...|--all | dlq purge ID...|--all
  events [--agent NAME]           lifecycle events as they happen

Every verb has --help. Exit codes: 0 ok, 1 failed, 2 usage, 3 server unreachable,
4 denied (401/403), 5 not found, 6 conflict (exists, rolled back), 7 the agent did
not answer (dead-lettered, timed out), 8 invalid request or module.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is the program, with its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	verb, rest := args[0], args[1:]
	var err error
	switch verb {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "serve":
		err = cmdServe(rest, stdout, stderr)
	default:
		v, ok := verbs[verb]
		if !ok {
			fmt.Fprintf(stderr, "caxton: unknown verb %q\n\n%s", verb, usage)
			return exitUsage
		}
		err = runVerb(ctx, verb, v, rest, stdout, stderr)
	}
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if !errors.Is(err, errHelp) {
		fmt.Fprintln(stderr, "caxton:", describe(err))
	}
	return code
}

// errHelp: --help was asked for (exit 0, the usage already printed).
var errHelp = errors.New("help")

type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErr(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{err}
}

func exitCode(err error) int {
	var p *server.Problem
	var ue *usageError
	var unr *client.UnreachableError
	switch {
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &unr):
		return exitUnreachable
	case errors.As(err, &p):
		switch p.Status {
		case http.StatusUnauthorized, http.StatusForbidden:
			return exitDenied
		case http.StatusNotFound:
			return exitNotFound
		case http.StatusConflict:
			return exitConflict
		case http.StatusBadGateway, http.StatusGatewayTimeout:
			return exitNoAnswer
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			return exitInvalid
		}
	}
	return exitFailed
}

// describe says what went wrong in one line, naming the field or agent.
func describe(err error) string {
	var p *server.Problem
	if !errors.As(err, &p) {
		return err.Error()
	}
	s := p.Title
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	if p.Field != "" {
		s += " (field " + p.Field + ")"
	}
	if p.DeadLetter != "" {
		s += " (dead letter " + p.DeadLetter + ")"
	}
	return fmt.Sprintf("%s [%d]", s, p.Status)
}
