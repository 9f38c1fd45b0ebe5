// Package policy is a rule set for caxton.WithAuthorizer, written as text
// that reads well in code review:
//
//	# who may say what to whom
//	default deny
//	allow host send * to *
//	allow role:billing send request,inform to agent:ledger, topic:invoices.*
//	deny  wasm send * to inbox:*
//	allow agent send * to *
//	allow agent subscribe topic:public.*
//	allow role:operator do scale,upgrade,stop,start on *
//
// Each line is a rule: allow or deny, a subject, and what it covers. The
// first rule that matches a request decides; if none does, the default
// (deny unless a "default allow" line says otherwise) does.
//
// Subjects: "*" (anyone), "host", "inbox[:NAME]", "agent[:NAME]" (any
// agent), "wasm[:NAME]" (sandboxed agents only), "identity[:NAME]" (whoever
// asks for a lifecycle operation), "role:ROLE" (an agent or identity with
// that role).
//
// What a rule covers:
//
//	send PERFORMATIVES to TARGETS   performatives by FIPA name (request, inform, cfp, ...) or *
//	subscribe TOPICS
//	do ACTIONS on TARGETS           spawn, stop, start, scale, upgrade, remove, replay, purge, or *
//
// TARGETS and TOPICS are comma-separated patterns where * matches any run
// of characters: "billing", "agent:bill*", "inbox:*", "topic:news.*" (a
// bare name matches an agent or inbox of that name; "agent:" and "inbox:"
// say which). Words are separated by spaces; '#' starts a comment.
package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

// ErrParse: the policy text is malformed; see *ParseError.
var ErrParse = errors.New("policy: malformed")

// ParseError names the line and what is wrong with it.
type ParseError struct {
	Line   int
	Reason string
}

func (e *ParseError) Error() string { return fmt.Sprintf("policy: line %d: %s", e.Line, e.Reason) }

// Unwrap returns ErrParse.
func (e *ParseError) Unwrap() error { return ErrParse }

// Policy is a parsed rule set; it implements caxton.Authorizer and is safe
// for concurrent use.
type Policy struct {
	rules        []rule
	defaultAllow bool
}

type verb uint8

const (
	verbSend verb = iota + 1
	verbSubscribe
	verbDo
)

type rule struct {
	line    int
	text    string
	allow   bool
	subject subject
	verb    verb
	perfs   []acl.Performative // send; nil: any
	actions []caxton.Action    // do; nil: any
	targets []string           // patterns
}

type subject struct {
	kind string // "*", "host", "inbox", "agent", "wasm", "identity", "role"
	name string // pattern, or the role; "" matches any
}

// Parse reads a policy; the error names the first bad line.
func Parse(text string) (*Policy, error) {
	p := &Policy{}
	sawDefault := false
	for i, raw := range strings.Split(text, "\n") {
		n := i + 1
		line := raw
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		words := strings.Fields(line)
		if len(words) == 0 {
			continue
		}
		if words[0] == "default" {
			if len(words) != 2 || (words[1] != "allow" && words[1] != "deny") {
				return nil, &ParseError{n, `"default" takes allow or deny`}
			}
			if sawDefault {
				return nil, &ParseError{n, "a second default line"}
			}
			sawDefault, p.defaultAllow = true, words[1] == "allow"
			continue
		}
		r, err := parseRule(words)
		if err != nil {
			return nil, &ParseError{n, err.Error()}
		}
		r.line, r.text = n, strings.Join(words, " ")
		p.rules = append(p.rules, r)
	}
	return p, nil
}

// MustParse is Parse for policies written in the program: it panics on a
// malformed one.
func MustParse(text string) *Policy {
	p, err := Parse(text)
	if err != nil {
		panic(err)
	}
	return p
}

func parseRule(w []string) (rule, error) {
	var r rule
	switch w[0] {
	case "allow":
		r.allow = true
	case "deny":
	default:
		return r, fmt.Errorf("a rule starts with allow, deny or default, not %q", w[0])
	}
	if len(w) < 3 {
		return r, errors.New("a rule needs a subject and what it covers")
	}
	var err error
	if r.subject, err = parseSubject(w[1]); err != nil {
		return r, err
	}
	rest := strings.Join(w[3:], " ")
	switch w[2] {
	case "send":
		perfs, targets, ok := strings.Cut(rest, " to ")
		if !ok {
			return r, errors.New(`send needs "PERFORMATIVES to TARGETS"`)
		}
		r.verb = verbSend
		if r.perfs, err = parsePerformatives(perfs); err != nil {
			return r, err
		}
		r.targets, err = parseList(targets, "target")
	case "subscribe":
		r.verb = verbSubscribe
		r.targets, err = parseList(rest, "topic")
		for i, t := range r.targets {
			if !strings.HasPrefix(t, acl.TopicPrefix) {
				r.targets[i] = acl.TopicPrefix + t
			}
		}
	case "do":
		acts, targets, ok := strings.Cut(rest, " on ")
		if !ok {
			return r, errors.New(`do needs "ACTIONS on TARGETS"`)
		}
		r.verb = verbDo
		if r.actions, err = parseActions(acts); err != nil {
			return r, err
		}
		r.targets, err = parseList(targets, "target")
	default:
		return r, fmt.Errorf("%q: a rule covers send, subscribe or do", w[2])
	}
	return r, err
}

var subjectKinds = []string{"host", "inbox", "agent", "wasm", "identity", "role"}

func parseSubject(s string) (subject, error) {
	if s == "*" {
		return subject{kind: "*"}, nil
	}
	kind, name, _ := strings.Cut(s, ":")
	if !slices.Contains(subjectKinds, kind) {
		return subject{}, fmt.Errorf("subject %q: use *, host, inbox, agent, wasm, identity or role:NAME", s)
	}
	if kind == "host" && name != "" {
		return subject{}, fmt.Errorf("subject %q: host has no name", s)
	}
	if kind == "role" && (name == "" || strings.Contains(name, "*")) {
		return subject{}, fmt.Errorf("subject %q: role needs a name (no *)", s)
	}
	return subject{kind: kind, name: name}, nil
}

func parseList(s, what string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, fmt.Errorf("an empty %s in %q", what, s)
		}
		if strings.ContainsAny(f, " \t") {
			return nil, fmt.Errorf("%s %q: separate with commas", what, f)
		}
		out = append(out, f)
	}
	return out, nil
}

func parsePerformatives(s string) ([]acl.Performative, error) {
	names, err := parseList(s, "performative")
	if err != nil {
		return nil, err
	}
	if len(names) == 1 && names[0] == "*" {
		return nil, nil
	}
	out := make([]acl.Performative, 0, len(names))
	for _, n := range names {
		p, err := acl.ParsePerformative(n)
		if err != nil {
			return nil, fmt.Errorf("performative %q: %v", n, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseActions(s string) ([]caxton.Action, error) {
	names, err := parseList(s, "action")
	if err != nil {
		return nil, err
	}
	if len(names) == 1 && names[0] == "*" {
		return nil, nil
	}
	var out []caxton.Action
	for _, n := range names {
		found := false
		for a := caxton.ActionSpawn; a <= caxton.ActionPurge; a++ {
			if a.String() == n {
				out, found = append(out, a), true
			}
		}
		if !found {
			return nil, fmt.Errorf("action %q: use spawn, stop, start, scale, upgrade, remove, replay, purge or *", n)
		}
	}
	return out, nil
}

// Authorize implements caxton.Authorizer: the first matching rule decides.
func (p *Policy) Authorize(_ context.Context, req caxton.AuthzRequest) error {
	for i := range p.rules {
		r := &p.rules[i]
		if !r.matches(req) {
			continue
		}
		if r.allow {
			return nil
		}
		return fmt.Errorf("denied by policy line %d (%s)", r.line, r.text)
	}
	if p.defaultAllow {
		return nil
	}
	return errors.New("no policy rule allows it (default deny)")
}

func (r *rule) matches(req caxton.AuthzRequest) bool {
	if !r.subject.matches(req.Subject) {
		return false
	}
	switch r.verb {
	case verbSend:
		if req.Action != caxton.ActionSend || (r.perfs != nil && !slices.Contains(r.perfs, req.Performative)) {
			return false
		}
	case verbSubscribe:
		if req.Action != caxton.ActionSubscribe {
			return false
		}
		return anyMatch(r.targets, acl.TopicPrefix+strings.TrimPrefix(req.Target, acl.TopicPrefix))
	case verbDo:
		if req.Action < caxton.ActionSpawn || (r.actions != nil && !slices.Contains(r.actions, req.Action)) {
			return false
		}
	}
	return targetMatches(r.targets, req.Target)
}

func (s subject) matches(sub caxton.Subject) bool {
	switch s.kind {
	case "*":
		return true
	case "host":
		return sub.Kind == caxton.SubjectHost
	case "role":
		return (sub.Kind == caxton.SubjectAgent || sub.Kind == caxton.SubjectIdentity) && slices.Contains(sub.Roles, s.name)
	case "inbox":
		return sub.Kind == caxton.SubjectInbox && (s.name == "" || glob(s.name, sub.Name))
	case "agent":
		return sub.Kind == caxton.SubjectAgent && (s.name == "" || glob(s.name, sub.Name))
	case "wasm":
		return sub.Kind == caxton.SubjectAgent && sub.Wasm && (s.name == "" || glob(s.name, sub.Name))
	case "identity":
		return sub.Kind == caxton.SubjectIdentity && (s.name == "" || glob(s.name, sub.Name))
	}
	return false
}

// targetMatches matches a receiver, topic or agent name against patterns:
// "topic:..." patterns match topics, "agent:"/"inbox:" ones names (the
// runtime does not tell the policy which a receiver is, so both prefixes
// match any non-topic name), bare ones names, "*" everything.
func targetMatches(patterns []string, target string) bool {
	isTopic := strings.HasPrefix(target, acl.TopicPrefix)
	for _, p := range patterns {
		switch {
		case p == "*":
			return true
		case strings.HasPrefix(p, acl.TopicPrefix):
			if isTopic && glob(p, target) {
				return true
			}
		case isTopic:
		default:
			name := p
			if k, rest, ok := strings.Cut(p, ":"); ok && (k == "agent" || k == "inbox") {
				name = rest
			}
			if glob(name, target) {
				return true
			}
		}
	}
	return false
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if p == "*" || glob(p, s) {
			return true
		}
	}
	return false
}

// glob reports whether s matches pattern, where * matches any run of
// characters (including none) and everything else itself. It runs in
// O(len(pattern)·len(s)) at worst: on a mismatch it only moves the last
// star on, never tries earlier ones again.
func glob(pattern, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pattern) && pattern[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(pattern) && pattern[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}
