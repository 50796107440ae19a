package listen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/ui"
)

// Timeouts for the listening server. Write must outlast the reply latency
// policy and a forward, so it is computed from them.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	IdleTimeout       = 60 * time.Second
	ShutdownGrace     = 30 * time.Second
)

// NewServer wraps h with the timeouts every ccx server sets.
func NewServer(h http.Handler, replyLatency time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      ReadTimeout + 30*time.Second + replyLatency,
		IdleTimeout:       IdleTimeout,
	}
}

// Serve runs srv on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets in-flight calls finish (up to grace) and returns.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// Stats counts calls for the shutdown summary. Safe for concurrent use.
type Stats struct {
	mu       sync.Mutex
	total    int
	byStatus map[int]int
	auth     map[string]int
	invalid  int
	warned   int
}

// Add counts one call.
func (s *Stats) Add(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byStatus == nil {
		s.byStatus, s.auth = map[int]int{}, map[string]int{}
	}
	s.total++
	s.byStatus[c.Status]++
	if c.Auth != AuthOK && c.Auth != AuthSkipped {
		s.auth[c.Auth]++
	}
	errs, warns := 0, 0
	for _, f := range c.Findings {
		if f.Severity == "error" {
			errs++
		} else {
			warns++
		}
	}
	if errs > 0 {
		s.invalid++
	} else if warns > 0 {
		s.warned++
	}
}

// Total is the number of calls seen.
func (s *Stats) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Summary is one line such as "3 calls: 2×200 1×401; auth: 1 wrong; 0 invalid".
func (s *Stats) Summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total == 0 {
		return "0 calls"
	}
	var codes []int
	for c := range s.byStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", s.byStatus[c], c))
	}
	out := fmt.Sprintf("%s: %s", ui.Plural(s.total, "call"), strings.Join(parts, " "))
	var auth []string
	for _, k := range []string{AuthMissing, AuthWrong, AuthBadScheme} {
		if n := s.auth[k]; n > 0 {
			auth = append(auth, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(auth) > 0 {
		out += "; auth refused: " + strings.Join(auth, ", ")
	}
	return out + fmt.Sprintf("; %d invalid, %d with warnings", s.invalid, s.warned)
}
