// Command natsd runs a NATS server with JetStream for bench/relay-scale.sh:
// nats-server embedded (already a test dependency of the module), so the
// benchmark needs no install. It binds loopback only, stores in -dir, prints
// its client URL once ready, and exits on SIGINT/SIGTERM or after -max-life.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	dir := flag.String("dir", "", "JetStream store directory (required)")
	syncAlways := flag.Bool("sync-always", false, "fsync every write (jetstream sync_interval: always); default: the server's 2 min interval")
	life := flag.Duration("max-life", 30*time.Minute, "exit after this long even if nobody stops it")
	flag.Parse()
	host, portS, err := net.SplitHostPort(*addr)
	if err != nil || (host != "127.0.0.1" && host != "::1" && host != "localhost") || *dir == "" {
		fmt.Fprintln(os.Stderr, "natsd: -dir is required and -addr must be on loopback")
		os.Exit(2)
	}
	port := 0
	if _, err := fmt.Sscan(portS, &port); err != nil {
		fmt.Fprintln(os.Stderr, "natsd: bad port in -addr")
		os.Exit(2)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	o := &server.Options{Host: host, Port: port, JetStream: true, StoreDir: *dir, NoLog: true, NoSigs: true,
		SyncAlways: *syncAlways}
	srv, err := server.NewServer(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "natsd:", err)
		os.Exit(3)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		fmt.Fprintln(os.Stderr, "natsd: not ready within 10s")
		os.Exit(3)
	}
	fmt.Println(srv.ClientURL())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-sig:
	case <-time.After(*life):
	}
	srv.Shutdown()
	srv.WaitForShutdown()
}
