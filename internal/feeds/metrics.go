package feeds

// Metrics of the pipeline's stages read from the database when /metrics
// is scraped: the runs' counts are summed (the runs table is small: one
// row per file), so every instance reports the same cluster-wide totals
// and nothing has to be counted in the pipeline's hot path.

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/belfry-cert/belfry/internal/store"
)

// collector reads the feed metrics at scrape time.
type collector struct {
	svc     *Service
	rows    *prometheus.Desc
	events  *prometheus.Desc
	pairs   *prometheus.Desc
	runs    *prometheus.Desc
	last    *prometheus.Desc
	seconds *prometheus.Desc
}

// Collector returns the Prometheus collector of the feed runs.
func (s *Service) Collector() prometheus.Collector {
	return &collector{svc: s,
		rows: prometheus.NewDesc("belfry_feed_rows_total", "Data rows read from feed files (parse stage), by result: event or problem.",
			[]string{"result"}, nil),
		events: prometheus.NewDesc("belfry_feed_events_total", "Events parsed (match stage), by result: matched to an organisation or unmatched.",
			[]string{"result"}, nil),
		pairs: prometheus.NewDesc("belfry_feed_dedup_total", "Event and organisation pairs (dedup stage), by result: new (to notify) or duplicate.",
			[]string{"result"}, nil),
		runs: prometheus.NewDesc("belfry_feed_runs", "Feed runs stored, by status.", []string{"status"}, nil),
		last: prometheus.NewDesc("belfry_feed_last_run_finished_timestamp_seconds", "When the last finished feed run ended, by status.",
			[]string{"status"}, nil),
		seconds: prometheus.NewDesc("belfry_feed_run_seconds_total", "Time spent in finished feed runs (all stages, store included).", nil, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.rows, c.events, c.pairs, c.runs, c.last, c.seconds} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rows, err := c.svc.db.Query(ctx, `SELECT status, count(*), COALESCE(sum(events), 0), COALESCE(sum(problems), 0), COALESCE(sum(matched), 0),
		COALESCE(sum(unmatched), 0), COALESCE(sum(new_events), 0), COALESCE(sum(duplicates), 0), max(finished_at) FROM feed_runs GROUP BY status`)
	if err != nil {
		c.fail(ch, err)
		return
	}
	defer rows.Close()
	var ev, pr, ma, un, nw, du int64
	seen := map[string]bool{}
	for rows.Next() {
		var status string
		var n, e, p, m, u, w, d int64
		var last *time.Time
		var lastRaw any
		if err := rows.Scan(&status, &n, &e, &p, &m, &u, &w, &d, &lastRaw); err != nil {
			c.fail(ch, err)
			return
		}
		last = asTime(lastRaw)
		seen[status] = true
		ev, pr, ma, un, nw, du = ev+e, pr+p, ma+m, un+u, nw+w, du+d
		ch <- prometheus.MustNewConstMetric(c.runs, prometheus.GaugeValue, float64(n), status)
		if last != nil {
			ch <- prometheus.MustNewConstMetric(c.last, prometheus.GaugeValue, float64(last.UnixMilli())/1000, status)
		}
	}
	if err := rows.Err(); err != nil {
		c.fail(ch, err)
		return
	}
	for _, s := range RunStatuses {
		if !seen[s] {
			ch <- prometheus.MustNewConstMetric(c.runs, prometheus.GaugeValue, 0, s)
		}
	}
	counter := func(d *prometheus.Desc, v int64, label string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), label)
	}
	counter(c.rows, ev, "event")
	counter(c.rows, pr, "problem")
	counter(c.events, ma, "matched")
	counter(c.events, un, "unmatched")
	counter(c.pairs, nw, "new")
	counter(c.pairs, du, "duplicate")
	var secs float64
	if err := c.durations(ctx, &secs); err != nil {
		c.fail(ch, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.seconds, prometheus.CounterValue, secs)
}

// durations sums the finished runs' durations in the database's own
// date arithmetic.
func (c *collector) durations(ctx context.Context, secs *float64) error {
	q := `SELECT COALESCE(sum((julianday(finished_at) - julianday(started_at)) * 86400.0), 0) FROM feed_runs WHERE finished_at IS NOT NULL`
	if c.svc.db.Dialect() == store.Postgres {
		q = `SELECT COALESCE(sum(EXTRACT(EPOCH FROM finished_at - started_at)), 0)::float8 FROM feed_runs WHERE finished_at IS NOT NULL`
	}
	return c.svc.db.QueryRow(ctx, q).Scan(secs)
}

// asTime reads an aggregate of timestamps, which SQLite returns as text.
func asTime(v any) *time.Time {
	switch x := v.(type) {
	case time.Time:
		return &x
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00", time.RFC3339Nano} {
			if t, err := time.Parse(layout, x); err == nil {
				return &t
			}
		}
	case []byte:
		return asTime(string(x))
	}
	return nil
}

func (c *collector) fail(ch chan<- prometheus.Metric, err error) {
	c.svc.log.Warn("feeds: metrics", "err", err)
	ch <- prometheus.NewInvalidMetric(c.runs, err)
}

// StageMetrics counts, on this instance, the time the pipeline spends in
// each stage and the events each handled (Options.Observe), for /metrics:
// belfry_feed_stage_seconds_total{stage} and
// belfry_feed_stage_events_total{stage}.
type StageMetrics struct {
	seconds *prometheus.CounterVec
	events  *prometheus.CounterVec
}

// NewStageMetrics registers the stage counters in reg.
func NewStageMetrics(reg prometheus.Registerer) *StageMetrics {
	m := &StageMetrics{
		seconds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "belfry_feed_stage_seconds_total",
			Help: "Time the feeds pipeline of this instance spent per stage: match, fields, dedup, store."}, []string{"stage"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "belfry_feed_stage_events_total",
			Help: "Events (dedup: event and organisation pairs; store: rows) handled per stage by this instance."}, []string{"stage"}),
	}
	reg.MustRegister(m.seconds, m.events)
	for _, s := range []string{StageMatch, StageFields, StageDedup, StageStore} {
		m.seconds.WithLabelValues(s)
		m.events.WithLabelValues(s)
	}
	return m
}

// Observe is an Options.Observe that counts into m.
func (m *StageMetrics) Observe(stage string, d time.Duration, n int) {
	m.seconds.WithLabelValues(stage).Add(d.Seconds())
	m.events.WithLabelValues(stage).Add(float64(n))
}
