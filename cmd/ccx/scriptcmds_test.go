package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/natstest"
	"github.com/rogpeppe/go-internal/testscript"
)

// scriptCmds are the custom testscript commands shared by every CLI script.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"perm":       cmdPerm,
	"exits":      cmdExits,
	"freeport":   cmdFreeport,
	"waitfor":    cmdWaitfor,
	"httpsink":   cmdHTTPSink,
	"notHTTP":    cmdNotHTTP,
	"hangs":      cmdHangs,
	"waitmatch":  cmdWaitmatch,
	"natsserver": cmdNATSServer,
}

// cmdPerm asserts a file's permission bits: perm OCTAL PATH (e.g. perm 0600 f).
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm OCTAL PATH")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	if err != nil {
		ts.Fatalf("perm: bad mode %q", args[0])
	}
	fi, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	if got := fi.Mode().Perm(); (uint64(got) == want) == neg {
		ts.Fatalf("%s has mode %04o; want %s%04o", args[1], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// cmdWaitmatch polls URL until its body matches REGEX, for at most 10 s:
// waitmatch URL REGEX. For asynchronous effects (callbacks, deliveries).
func cmdWaitmatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitmatch URL REGEX")
	}
	re, err := regexp.Compile(args[1])
	if err != nil {
		ts.Fatalf("waitmatch: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	last := ""
	for {
		if resp, err := http.Get(args[0]); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if re.Match(b) {
				return
			}
			last = string(b)
		}
		if time.Now().After(deadline) {
			if len(last) > 2000 {
				last = last[:2000] + "…"
			}
			ts.Fatalf("waitmatch %s: no match for %q within 10s; last body: %s", args[0], args[1], last)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// cmdNotHTTP starts a TCP server that answers every connection with bytes
// that are not HTTP, for the rest of the script: notHTTP NAME sets $NAME_URL.
func cmdNotHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: notHTTP NAME")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.Fatalf("notHTTP: %v", err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				_, _ = c.Write([]byte("\x00\x01garbage, not HTTP\r\n\r\n"))
			}()
		}
	}()
	ts.Defer(func() { ln.Close() })
	ts.Setenv(args[0]+"_URL", "http://"+ln.Addr().String())
}

// cmdHangs starts an HTTP server that never answers (until the script
// ends): hangs NAME sets $NAME_URL.
func cmdHangs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hangs NAME")
	}
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	ts.Defer(func() { close(done); srv.Close() })
	ts.Setenv(args[0]+"_URL", srv.URL)
}

// givenPorts are the ports freeport handed out in this test process: the
// kernel may offer a port again once its listener is closed, and two scripts
// (or two servers of one script) must not get the same one.
var givenPorts = struct {
	sync.Mutex
	m map[int]bool
}{m: map[int]bool{}}

// cmdFreeport sets VAR to a free loopback TCP port no earlier freeport of
// this run gave out: freeport VAR.
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	givenPorts.Lock()
	defer givenPorts.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		port := l.Addr().(*net.TCPAddr).Port
		ts.Check(l.Close())
		if !givenPorts.m[port] {
			givenPorts.m[port] = true
			ts.Setenv(args[0], strconv.Itoa(port))
			return
		}
	}
	ts.Fatalf("freeport: the kernel kept offering ports already given out")
}

// cmdWaitfor polls URL until it answers any HTTP status (10 s at most):
// waitfor URL. Used after starting a server in the background with `&`.
func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfor URL")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(args[0])
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfor %s: %v", args[0], err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdHTTPSink starts a recording HTTP server for the rest of the script:
// httpsink NAME [STATUS [BODY]]. It sets $NAME_URL and appends one JSON line
// per request ({"method","path","headers","body"}) to $WORK/NAME.requests.
// The reply is STATUS (default 200) with BODY (default {}).
func cmdHTTPSink(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 3 {
		ts.Fatalf("usage: httpsink NAME [STATUS [BODY]]")
	}
	name, status, body := args[0], 200, "{}"
	if len(args) > 1 {
		s, err := strconv.Atoi(args[1])
		if err != nil {
			ts.Fatalf("httpsink: bad status %q", args[1])
		}
		status = s
	}
	if len(args) > 2 {
		body = args[2]
	}
	logPath := filepath.Join(ts.Getenv("WORK"), name+".requests")
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		headers := map[string]string{}
		for k := range r.Header {
			headers[k] = r.Header.Get(k)
		}
		line, _ := json.Marshal(map[string]any{"method": r.Method, "path": r.URL.RequestURI(), "headers": headers, "body": string(b)})
		mu.Lock()
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%s\n", line)
			f.Close()
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	ts.Defer(srv.Close)
	ts.Setenv(name+"_URL", srv.URL)
}

// cmdNATSServer runs a NATS server with JetStream in the test process, its
// store in $WORK/NAME, until the script ends: natsserver NAME [USER PASS]
// (with USER and PASS it takes only those) sets NAME_URL
// (nats://127.0.0.1:PORT) and NAME_HOSTPORT.
func cmdNATSServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || (len(args) != 1 && len(args) != 3) {
		ts.Fatalf("usage: natsserver NAME [USER PASS]")
	}
	user, pass := "", ""
	if len(args) == 3 {
		user, pass = args[1], args[2]
	}
	s, err := natstest.OpenAuth(filepath.Join(ts.Getenv("WORK"), args[0]), user, pass)
	ts.Check(err)
	ts.Defer(s.Stop)
	ts.Setenv(args[0]+"_URL", s.URL())
	ts.Setenv(args[0]+"_HOSTPORT", s.HostPort())
}
