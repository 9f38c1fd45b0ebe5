// Package embedded runs NATS servers with JetStream inside the process, for
// development and tests of package cluster: one server, or several
// clustered on loopback (three give R3 streams that survive the loss of
// one). Production clusters run nats-server on their own; give their URLs
// to cluster.WithURLs instead.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Option configures Start.
type Option func(*config) error

type config struct {
	dir  string
	name string
}

// WithDir keeps the servers' JetStream data under dir (one subdirectory
// per server), which Close leaves in place. By default Start uses a fresh
// temporary directory and Close removes it.
func WithDir(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return errors.New("embedded: WithDir: empty directory")
		}
		c.dir = dir
		return nil
	}
}

// WithName names the NATS cluster (default "caxton-dev").
func WithName(name string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("embedded: WithName: empty name")
		}
		c.name = name
		return nil
	}
}

// Cluster is a set of NATS servers running in this process.
type Cluster struct {
	cfg     config
	ownDir  bool
	mu      sync.Mutex
	opts    []*server.Options
	servers []*server.Server // nil while stopped
}

// Start runs n servers (1 to 7) on loopback with JetStream and, for n > 1,
// routes between them, and returns once they are clustered and JetStream
// has a leader; ctx bounds the wait.
func Start(ctx context.Context, n int, opts ...Option) (*Cluster, error) {
	if n < 1 || n > 7 {
		return nil, fmt.Errorf("embedded: %d servers: want 1 to 7", n)
	}
	c := &Cluster{cfg: config{name: "caxton-dev"}}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("embedded: nil option")
		}
		if err := o(&c.cfg); err != nil {
			return nil, err
		}
	}
	if c.cfg.dir == "" {
		dir, err := os.MkdirTemp("", "caxton-nats-")
		if err != nil {
			return nil, fmt.Errorf("embedded: %w", err)
		}
		c.cfg.dir, c.ownDir = dir, true
	}
	// Ports are reserved and released just before the servers bind them
	// (JetStream's cluster needs its routes known before a server starts):
	// in this process, one Start at a time does that, so that parallel tests
	// cannot be handed each other's released ports.
	reserving.Lock()
	ports, err := freePorts(2 * n)
	if err != nil {
		reserving.Unlock()
		c.cleanup()
		return nil, err
	}
	var routes []*url.URL
	if n > 1 {
		for i := range n {
			routes = append(routes, &url.URL{Scheme: "nats", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[n+i]))})
		}
	}
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("%s-%d", c.cfg.name, i),
			Host:       "127.0.0.1",
			Port:       ports[i],
			JetStream:  true,
			StoreDir:   filepath.Join(c.cfg.dir, strconv.Itoa(i)),
			NoLog:      true,
			NoSigs:     true,
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: c.cfg.name, Host: "127.0.0.1", Port: ports[n+i]}
			o.Routes = routes
		}
		c.opts = append(c.opts, o)
	}
	c.servers = make([]*server.Server, n)
	for i := range n {
		if err := c.start(i); err != nil {
			reserving.Unlock()
			c.Close()
			return nil, err
		}
	}
	reserving.Unlock() // every port is bound now
	if err := c.WaitReady(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// reserving serializes Start's reserve-then-bind of ports within the
// process (the one package-level variable: the port space is the process's).
var reserving sync.Mutex

// freePorts reserves n loopback ports (they are released just before the
// servers bind them: a restarted server gets its old port back).
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("embedded: reserving a port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (c *Cluster) start(i int) error {
	s, err := server.NewServer(c.opts[i])
	if err != nil {
		return fmt.Errorf("embedded: server %d: %w", i, err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("embedded: server %d did not start listening", i)
	}
	c.mu.Lock()
	c.servers[i] = s
	c.mu.Unlock()
	return nil
}

// WaitReady waits until every running server is connected and JetStream
// has a current leader (after Start, or after Stop or Restart).
func (c *Cluster) WaitReady(ctx context.Context) error {
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		if c.ready() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("embedded: waiting for JetStream: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (c *Cluster) ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.servers) == 1 {
		return c.servers[0] != nil && c.servers[0].JetStreamEnabled()
	}
	running := 0
	var leader *server.Server
	for _, s := range c.servers {
		if s == nil {
			continue
		}
		running++
		if !s.JetStreamIsCurrent() {
			return false
		}
		if s.JetStreamIsLeader() {
			leader = s
		}
	}
	// The leader places streams only on peers it has heard from (online,
	// JetStream on, statistics received): until it has heard from every
	// running server, a replicated stream is refused with "no suitable
	// peers for placement".
	return leader != nil && len(leader.JetStreamClusterPeers()) >= running
}

// URLs returns the client URLs of all servers (running or not), for
// cluster.WithURLs.
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.opts))
	for i, o := range c.opts {
		out[i] = "nats://" + net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	}
	return out
}

// Len returns the number of servers, running or not.
func (c *Cluster) Len() int { return len(c.opts) }

// Stop shuts server i down abruptly (its clients see the connection drop),
// as a crashed server would be; its JetStream data stays for Restart.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	s := c.servers[i]
	c.servers[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Restart starts a stopped server i again, on its old ports and data.
func (c *Cluster) Restart(i int) error {
	c.mu.Lock()
	running := c.servers[i] != nil
	c.mu.Unlock()
	if running {
		return fmt.Errorf("embedded: server %d is running", i)
	}
	return c.start(i)
}

// Close stops every server and, unless WithDir was given, removes their
// data.
func (c *Cluster) Close() {
	for i := range c.servers {
		c.Stop(i)
	}
	c.cleanup()
}

func (c *Cluster) cleanup() {
	if c.ownDir {
		_ = os.RemoveAll(c.cfg.dir)
	}
}
