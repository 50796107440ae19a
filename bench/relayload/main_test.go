package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// The end-to-end figure rests on these two reads: a wrong sum would end the
// wait early or never.
func TestDeliveredSumsOKSeriesOfEveryRelayAndChannel(t *testing.T) {
	metrics := func(body string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
	}
	a := metrics("# HELP ccx_relay_deliveries_total x\nccx_relay_deliveries_total{result=\"ok\"} 7\nccx_relay_deliveries_total{result=\"dead\"} 100\n")
	defer a.Close()
	b := metrics("ccx_relay_deliveries_total{channel=\"c1\",result=\"ok\"} 2.5e+01\nccx_relay_deliveries_total{channel=\"c2\",result=\"ok\"} 3\nccx_relay_delivery_retries_total 9\n")
	defer b.Close()
	got, err := delivered(http.DefaultClient, []string{a.URL, b.URL})
	if err != nil || got != 35 {
		t.Fatalf("delivered = %v, %v; want 35", got, err)
	}
}

func TestStoredAtPlatformCountsThisRunsInboundMIDs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"messages":[{"mId":"r1-1","direction":"in"},{"mId":"r1-1","direction":"in"},{"mId":"r1-2","direction":"in"},`+
			`{"mId":"r1-3","direction":"out"},{"mId":"r2-1","direction":"in"}]}`)
	}))
	defer srv.Close()
	stored, distinct, err := storedAtPlatform(http.DefaultClient, srv.URL, "r1")
	if err != nil || stored != 3 || distinct != 2 {
		t.Fatalf("stored, distinct = %d, %d, %v; want 3, 2", stored, distinct, err)
	}
}

func TestCPUOfThisProcess(t *testing.T) {
	// Burn CPU until /proc shows some (a tick is 10 ms), at most 10 s.
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for cpuAll([]proc{{"self", os.Getpid()}}, 100)["self"] <= 0 {
		if time.Now().After(deadline) {
			t.Fatal("no CPU time read from /proc for this process after 10 s of work")
		}
		for i := 0; i < 1e7; i++ {
			x += i
		}
	}
	sink = x
}

var sink int
