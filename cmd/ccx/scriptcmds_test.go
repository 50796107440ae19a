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
	"strconv"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptCmds are the custom testscript commands shared by every CLI script.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"exits":    cmdExits,
	"freeport": cmdFreeport,
	"waitfor":  cmdWaitfor,
	"httpsink": cmdHTTPSink,
	"perm":     cmdPerm,
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

// cmdFreeport sets VAR to a free loopback TCP port: freeport VAR.
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := l.Addr().(*net.TCPAddr).Port
	ts.Check(l.Close())
	ts.Setenv(args[0], strconv.Itoa(port))
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
