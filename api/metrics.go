package api

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/tx"
)

// rateWindow is the span over which committed tx/s is averaged.
const rateWindow = 10 * time.Second

// Metrics are the node's Prometheus metrics, in a registry of their own.
// Labels are codes and stages, never identifiers.
type Metrics struct {
	reg        *prometheus.Registry
	height     prometheus.Gauge
	committed  prometheus.Counter
	rejections *prometheus.CounterVec

	mu     sync.Mutex
	recent []blockCount // blocks committed within rateWindow
}

type blockCount struct {
	at  time.Time
	txs int
}

// NewMetrics creates the metrics of a node serving b.
func NewMetrics(b Backend) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		height: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "careledger_block_height", Help: "Height of the last committed block.",
		}),
		committed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "careledger_txs_committed_total", Help: "Transactions committed in blocks, applied or not.",
		}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "careledger_tx_rejections_total",
			Help: "Transactions rejected, by result code and stage (submit: refused by the API or CheckTx; block: failed in a block).",
		}, []string{"code", "stage"}),
	}
	m.reg.MustRegister(m.height, m.committed, m.rejections,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "careledger_txs_per_second", Help: "Committed transactions per second over the last 10 seconds.",
		}, m.rate),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "careledger_mempool_txs", Help: "Transactions in the mempool.",
		}, func() float64 { return float64(b.Mempool.Size()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "careledger_pending_txs", Help: "Submitted transactions the node is tracking until they commit.",
		}, func() float64 { return float64(b.Tracker.Pending()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "careledger_txs_resubmitted_total", Help: "Accepted transactions found missing from the mempool and submitted again.",
		}, func() float64 { return float64(b.Tracker.Stats().Resubmitted) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "careledger_txs_dropped_total", Help: "Accepted transactions that can no longer commit.",
		}, func() float64 { return float64(b.Tracker.Stats().Dropped) }),
	)
	// Start every code at zero so that dashboards see the series.
	for _, c := range tx.Codes()[1:] {
		m.rejections.WithLabelValues(c.String(), "submit")
		m.rejections.WithLabelValues(c.String(), "block")
	}
	return m
}

// Handler serves the metrics in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry returns the registry, for other packages' metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) rejected(code tx.Code, stage string) {
	m.rejections.WithLabelValues(code.String(), stage).Inc()
}

// BlockCommitted updates the metrics with a committed block.
func (m *Metrics) BlockCommitted(b *app.Block) {
	m.height.Set(float64(b.Height))
	m.committed.Add(float64(len(b.Txs)))
	for i := range b.Txs {
		if c := b.Txs[i].Code; c != tx.CodeOK {
			m.rejected(c, "block")
		}
	}
	now := time.Now()
	m.mu.Lock()
	m.recent = append(m.recent, blockCount{now, len(b.Txs)})
	m.trim(now)
	m.mu.Unlock()
}

func (m *Metrics) trim(now time.Time) {
	i := 0
	for i < len(m.recent) && now.Sub(m.recent[i].at) > rateWindow {
		i++
	}
	m.recent = m.recent[i:]
}

func (m *Metrics) rate() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.trim(time.Now())
	n := 0
	for _, c := range m.recent {
		n += c.txs
	}
	return float64(n) / rateWindow.Seconds()
}
