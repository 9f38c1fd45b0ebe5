package mcpserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultMaxMessageBytes is the largest message ServeStdio reads from its
// client unless WithMaxMessageBytes says otherwise: the go-sdk's own cap.
const DefaultMaxMessageBytes = 16 << 20

const (
	// frameChunk is how much the frame filter reads at a time, and so
	// what skipping an oversize message holds in memory.
	frameChunk = 32 << 10
	// framePrefix is how much of an oversize message is kept to find its
	// request id.
	framePrefix = 64 << 10
)

// stdioTransport serves one client over newline-delimited JSON-RPC on in
// and out, as the MCP stdio transport specifies, refusing a message over
// limit bytes instead of ending the session.
//
// The go-sdk's StdioTransport caps a message too, but a message over its
// cap ends the whole session: the client's every later call fails, for one
// oversize request. Here a frameFilter in front of the go-sdk's reader
// takes each line whole; one over the limit is skipped (memory: limit plus
// a chunk), answered with a JSON-RPC error, and never reaches the go-sdk.
// The go-sdk's cap stays as a backstop at twice the limit for a message
// spread over several lines, which the stdio transport forbids.
func stdioTransport(in io.ReadCloser, out io.Writer, limit int) sdk.Transport {
	w := &lockedWriter{w: out}
	return &sdk.IOTransport{
		Reader:        &frameFilter{src: in, out: w, limit: limit},
		Writer:        w,
		MaxLineLength: 2*limit + 2*frameChunk,
	}
}

// lockedWriter writes whole messages one at a time: the go-sdk writes one
// message per Write, and the frame filter writes its refusals between them.
// Closing it leaves the writer open, as the go-sdk's stdio transport leaves
// stdout open.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) Close() error { return nil }

// frameFilter hands on complete lines of at most limit bytes from src, and
// answers each longer one on out with a JSON-RPC error instead. Its buffer
// holds at most one line within the limit and a chunk.
type frameFilter struct {
	src   io.ReadCloser
	out   io.Writer
	limit int

	buf     []byte // buf[start:ready] passed and is handed on next; buf[ready:] is not classified yet
	start   int
	ready   int
	srcErr  error  // src's error, returned once buf is handed on
	scratch []byte // what skipping reads into
}

// Read hands on lines that passed, reading more from src as needed.
func (f *frameFilter) Read(p []byte) (int, error) {
	for f.start == f.ready {
		if f.srcErr != nil {
			if len(f.buf) > f.ready {
				f.ready = len(f.buf) // a last line without its newline
				break
			}
			return 0, f.srcErr
		}
		f.fill()
	}
	n := copy(p, f.buf[f.start:f.ready])
	f.start += n
	return n, nil
}

// Close closes src, as the go-sdk's stdio transport closes stdin.
func (f *frameFilter) Close() error { return f.src.Close() }

// fill reads a chunk from src and classifies the lines it completes. It
// is called when everything that passed has been handed on.
func (f *frameFilter) fill() {
	if f.start > 0 { // move what is not classified yet to the front
		f.buf = f.buf[:copy(f.buf, f.buf[f.start:])]
		f.ready -= f.start
		f.start = 0
	}
	if err := f.read(&f.buf); err != nil {
		f.srcErr = err
	}
	for {
		i := bytes.IndexByte(f.buf[f.ready:], '\n')
		if i < 0 {
			if len(f.buf)-f.ready <= f.limit {
				return // wait for the rest of the line
			}
			f.skip() // the line is already too long: drop it to its end
			continue
		}
		end := f.ready + i + 1
		if i > f.limit { // a whole line over the limit, in one chunk
			f.refuse(bytes.Clone(f.buf[f.ready:min(end, f.ready+framePrefix)]), i)
			f.buf = f.buf[:f.ready+copy(f.buf[f.ready:], f.buf[end:])]
			continue
		}
		f.ready = end
	}
}

// read appends up to a chunk from src to *b.
func (f *frameFilter) read(b *[]byte) error {
	*b = slices.Grow(*b, frameChunk)
	n, err := f.src.Read((*b)[len(*b) : len(*b)+frameChunk])
	*b = (*b)[:len(*b)+n]
	return err
}

// skip drops the line that starts at buf[ready:], already over the
// limit, up to and including its newline, reading and discarding a chunk
// at a time, and refuses it; what follows the newline stays in buf. It
// keeps the line's first framePrefix bytes, where its id should be.
func (f *frameFilter) skip() {
	line := f.buf[f.ready:]
	prefix := bytes.Clone(line[:min(len(line), framePrefix)])
	size := len(line)
	f.buf = f.buf[:f.ready]
	for f.srcErr == nil {
		f.scratch = f.scratch[:0]
		if err := f.read(&f.scratch); err != nil {
			f.srcErr = err
		}
		rest := f.scratch
		i := bytes.IndexByte(rest, '\n')
		if i >= 0 {
			rest = rest[:i]
		}
		size += len(rest)
		if len(prefix) < framePrefix {
			prefix = append(prefix, rest[:min(len(rest), framePrefix-len(prefix))]...)
		}
		if i >= 0 {
			f.buf = append(f.buf, f.scratch[i+1:]...)
			break
		}
	}
	f.refuse(prefix, size)
}

// refuse answers an oversize message of size bytes, of which prefix is
// the start, with a JSON-RPC error: with its id if the prefix has one,
// otherwise with id null, as JSON-RPC asks when the id cannot be read. A
// response (the client answering a request of the server's) is not
// answered.
func (f *frameFilter) refuse(prefix []byte, size int) {
	id, isResponse := frameID(prefix)
	if isResponse {
		return
	}
	msg := fmt.Sprintf("message too large: %d bytes, over this server's limit of %d bytes per message; "+
		"it was not processed (send less, or ask the operator to raise WithMaxMessageBytes)", size, f.limit)
	if id == nil {
		id = json.RawMessage("null")
		msg += fmt.Sprintf("; its request id is not within its first %d bytes, so this error's id is null", len(prefix))
	}
	b, err := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   jsonrpc.Error   `json:"error"`
	}{"2.0", id, jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: msg}})
	if err != nil {
		return
	}
	_, _ = f.out.Write(append(b, '\n'))
}

// frameID reads the top-level "id" of a JSON-RPC message from the start of
// it. It returns nil if the id is not there (or not a string or number),
// and whether the message is a response (it has "result" or "error").
func frameID(prefix []byte) (id json.RawMessage, isResponse bool) {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return id, isResponse
		}
		if key == "result" || key == "error" {
			isResponse = true
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return id, isResponse // the value runs past the prefix
		}
		if key == "id" && len(v) > 0 && (v[0] == '"' || v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
			id = v
		}
	}
	return id, isResponse
}
