package relay

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the relay's Prometheus series, labelled with the channel: on a
// registry of the engine's own (several engines in tests never collide), or
// on one the engines of a many-channel relay share.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec   // route, code
	latency    *prometheus.HistogramVec // route
	sends      *prometheus.CounterVec   // result
	inbound    *prometheus.CounterVec   // kind, outcome
	deliveries *prometheus.CounterVec   // result
	retries    prometheus.Counter
	deliverLat prometheus.Histogram
}

func newMetrics(q queue, channelID string, shared *prometheus.Registry) *metrics {
	m := &metrics{reg: shared}
	if shared == nil {
		m.reg = NewRegistry()
	}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ccx_relay_requests_total",
		Help: "HTTP requests served, by route and status code."}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ccx_relay_request_duration_seconds",
		Help: "Time to answer a request, by route.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
		[]string{"route"})
	m.sends = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ccx_relay_provider_sends_total",
		Help: "Outgoing messages handed to the provider, by result."}, []string{"result"})
	m.inbound = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ccx_relay_inbound_events_total",
		Help: "Provider events received, by kind and outcome (queued, duplicate, skipped)."}, []string{"kind", "outcome"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ccx_relay_deliveries_total",
		Help: "Webhook deliveries to the platform, by final result (ok, dead)."}, []string{"result"})
	m.retries = prometheus.NewCounter(prometheus.CounterOpts{Name: "ccx_relay_delivery_retries_total",
		Help: "Delivery rounds that failed and will be retried."})
	m.deliverLat = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ccx_relay_delivery_latency_seconds",
		Help: "Time from spooling an event to the platform accepting it.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14)})
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ccx_relay_spool_depth", Help: "Events waiting in the spool."},
		func() float64 { return float64(q.gauges().Depth) })
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ccx_relay_spool_bytes", Help: "Bytes waiting in the spool."},
		func() float64 { return float64(q.gauges().Bytes) })
	dead := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ccx_relay_spool_dead", Help: "Events the platform refused for good."},
		func() float64 { return float64(q.gauges().Dead) })
	bad := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ccx_relay_spool_bad",
		Help: "Queued events that could not be read, quarantined in the spool's bad bucket ('ccx relay spool check')."},
		func() float64 { return float64(q.gauges().Bad) })
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ccx_relay_spool_in_flight",
		Help: "Events whose post to the platform has started and is not yet marked done."},
		func() float64 { return float64(q.gauges().InFlight) })
	redelivered := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ccx_relay_redeliveries_total",
		Help: "Events posted again after a restart because their post was in flight when the relay stopped (kept in the spool)."},
		func() float64 { return float64(q.gauges().Redelivered) })
	prometheus.WrapRegistererWith(prometheus.Labels{"channel": channelID}, m.reg).MustRegister(
		m.requests, m.latency, m.sends, m.inbound, m.deliveries, m.retries, m.deliverLat, depth, size, dead, bad, inFlight, redelivered)
	return m
}

// NewRegistry is a registry with the Go and process collectors, for the
// engines of one relay to share (Options.Registry).
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
