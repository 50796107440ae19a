// Package natstest runs a real NATS server with JetStream inside a test
// process: loopback only, its store in a test's temp dir, no install step.
// Only tests import it, so the server is never linked into ccx.
package natstest

import (
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is an embedded JetStream server that can be restarted on the same
// port and store.
type Server struct {
	dir        string
	port       int
	user, pass string // "" → no authentication
	tls        *tls.Config
	srv        *server.Server
}

// Start runs a server storing in dir on a free loopback port; the test's
// cleanup stops it.
func Start(t testing.TB, dir string) *Server {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Open runs a server storing in dir on a free loopback port (for callers
// without a testing.TB: testscript commands); Stop ends it.
func Open(dir string) (*Server, error) { return OpenAuth(dir, "", "") }

// OpenTLS is Open with a server that speaks only TLS with cfg (set
// cfg.ClientAuth and ClientCAs to require client certificates).
func OpenTLS(dir string, cfg *tls.Config) (*Server, error) {
	s, err := listen(dir)
	if err != nil {
		return nil, err
	}
	s.tls = cfg
	return s, s.start()
}

// OpenAuth is Open with a server that takes only user and password.
func OpenAuth(dir, user, pass string) (*Server, error) {
	s, err := listen(dir)
	if err != nil {
		return nil, err
	}
	s.user, s.pass = user, pass
	return s, s.start()
}

// listen picks a free loopback port.
func listen(dir string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return &Server{dir: dir, port: port}, nil
}

func (s *Server) start() error {
	o := &server.Options{Host: "127.0.0.1", Port: s.port, JetStream: true, StoreDir: s.dir,
		Username: s.user, Password: s.pass, NoLog: true, NoSigs: true}
	if s.tls != nil {
		o.TLS, o.TLSConfig, o.TLSTimeout = true, s.tls, 5
		o.TLSVerify = s.tls.ClientAuth == tls.RequireAndVerifyClientCert
	}
	srv, err := server.NewServer(o)
	if err != nil {
		return err
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return errors.New("nats server not ready within 10s")
	}
	s.srv = srv
	return nil
}

// URL is the client URL of the server.
func (s *Server) URL() string { return "nats://" + s.HostPort() }

// HostPort is the server's address, for URLs with credentials in them.
func (s *Server) HostPort() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Restart stops the server and starts it again on the same port and store,
// as an operator's restart would.
func (s *Server) Restart() error {
	s.Stop()
	return s.start()
}

// Stop shuts the server down (Restart or the test's end).
func (s *Server) Stop() {
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
		s.srv = nil
	}
}
