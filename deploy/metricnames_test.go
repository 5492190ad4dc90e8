//go:build deploy

package deploy

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/handlers"
	"github.com/ucm-gateway/ucm-gateway/internal/metrics"
	"github.com/ucm-gateway/ucm-gateway/internal/sessionpool"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm"
	"github.com/ucm-gateway/ucm-gateway/internal/ucm/ucmsim"
)

// scrapedNames runs a real gateway in front of two simulated units, "demo" (working) and
// "broken" (the gateway has the wrong password), drives a few requests through it so every
// labelled series exists, and returns the metric names its /metrics exposes.
func scrapedNames(t *testing.T) map[string]bool {
	t.Helper()
	m := metrics.New("test")
	var units []sessionpool.UnitConfig
	for _, u := range []struct{ id, gatewayPassword string }{{"demo", "Right-Pa55word"}, {"broken", "Wrong-Pa55word"}} {
		ss, err := ucmsim.Listen(ucmsim.New(ucmsim.Config{Username: "api", Password: "Right-Pa55word", Seed: true}), "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { ss.Close() })
		tc, err := ucm.TLSOptions{PinSHA256: ss.CertSHA256()}.Config()
		require.NoError(t, err)
		client, err := ucm.NewClient(ss.URL(), tc)
		require.NoError(t, err)
		units = append(units, sessionpool.UnitConfig{ID: u.id, URL: ss.URL(), Username: "api", Password: u.gatewayPassword, Client: client})
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	pool, err := sessionpool.New(sessionpool.Options{Logger: logger, Metrics: m}, units)
	require.NoError(t, err)
	t.Cleanup(func() { pool.Close(context.Background()) })
	h, err := handlers.New(handlers.Options{Upstream: pool, Logger: logger, Metrics: m, InsecureNoAuth: true}) // about metric names, not access
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	for _, p := range []string{"/v1/units/demo/extensions/1000", "/v1/units/demo/system/status", "/v1/units/broken/system/status", "/v1/units/demo/extensions/9999"} {
		resp, err := http.Get(srv.URL + p)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	names := map[string]bool{}
	for name, f := range fams {
		names[name] = true
		switch f.GetType().String() {
		case "HISTOGRAM", "GAUGE_HISTOGRAM":
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case "SUMMARY":
			names[name+"_sum"], names[name+"_count"] = true, true
		}
	}
	// The series the alerts need must really be there, not only their names.
	require.True(t, names["ucm_gateway_ucm_calls_total"], "UCM calls were recorded")
	return names
}

// promqlNames returns the metric names an expression selects. PromQL's own parser lives in the
// prometheus/prometheus module, which would upgrade shared dependencies; this scanner removes
// strings, label matchers, ranges and grouping clauses, then treats every remaining identifier
// that is not a function or keyword as a metric name, so an unknown word fails loudly rather
// than being skipped.
func promqlNames(expr string) []string {
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`"), // strings
		regexp.MustCompile(`\{[^}]*\}`),                                        // label matchers
		regexp.MustCompile(`\[[^\]]*\]`),                                       // ranges and subqueries
		regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`),
		regexp.MustCompile(`\boffset\s+-?[0-9a-z]+`),
		regexp.MustCompile(`\b[0-9][0-9a-zA-Z.]*`), // numbers and durations
	} {
		expr = re.ReplaceAllString(expr, " ")
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`).FindAllStringSubmatch(expr, -1) {
		word := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[0]), "("))
		if m[1] != "" || promqlKeywords[word] || seen[word] {
			continue // a function call, an operator word
		}
		seen[word] = true
		out = append(out, word)
	}
	return out
}

var promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "by": true, "without": true,
	"on": true, "ignoring": true, "group_left": true, "group_right": true, "offset": true, "atan2": true}

// Grafana variables become plain PromQL before scanning.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "$unit", ".*", "${unit}", ".*")

// Metrics Prometheus adds itself for every target.
var synthetic = map[string]bool{"up": true, "scrape_duration_seconds": true, "scrape_samples_scraped": true}

func TestPromQLNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{expr: `max by (unit) (ucm_gateway_session_state{state=~"unreachable|backing_off"}) == 1`, want: []string{"ucm_gateway_session_state"}},
		{expr: `histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{route!="/x/{unit}"}[5m]))) > 2`, want: []string{"a_bucket"}},
		{expr: `sum(rate(a_total{code=~"5.."}[5m])) / sum(rate(a_total[5m])) > 0.05`, want: []string{"a_total"}},
		{expr: `up{job="x"} == 0 or absent(b_info) unless on (instance) c`, want: []string{"up", "b_info", "c"}},
		{expr: `count by (version) (ucm_gateway_build_info)`, want: []string{"ucm_gateway_build_info"}},
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, promqlNames(tt.expr), "promqlNames(%q)", tt.expr)
	}
}

// Every alert and every dashboard query must select metrics the gateway really exports: a
// renamed metric would otherwise leave an alert that can never fire and a blank panel.
func TestAlertsAndDashboardUseExportedMetrics(t *testing.T) {
	names := scrapedNames(t)
	o := loadBase(t)
	var exprs []string
	for _, g := range o.rule.Spec.Groups {
		for _, r := range g.Rules {
			require.NotEmptyf(t, r.Alert, "group %s has a rule that is not an alert", g.Name)
			exprs = append(exprs, "alert "+r.Alert+": "+r.Expr.String())
		}
	}
	b, err := os.ReadFile(filepath.Join("grafana", "ucm-gateway.json"))
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct {
				Name       string
				Definition string
			}
		}
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	require.NotEmpty(t, dash.Panels)
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, "panel "+p.Title+": "+grafanaVars.Replace(tg.Expr))
		}
	}
	labelValues := regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*),`)
	for _, v := range dash.Templating.List {
		if m := labelValues.FindStringSubmatch(v.Definition); m != nil {
			exprs = append(exprs, "variable "+v.Name+": "+m[1])
		}
	}
	require.Greater(t, len(exprs), 10)

	var used []string
	for _, e := range exprs {
		where, expr, _ := strings.Cut(e, ": ")
		got := promqlNames(expr)
		assert.NotEmptyf(t, got, "%s selects no metric: %s", where, expr)
		for _, n := range got {
			used = append(used, n)
			assert.Truef(t, names[n] || synthetic[n], "%s uses %s, which the gateway does not export", where, n)
		}
	}
	sort.Strings(used)
	t.Logf("checked %d expressions, metrics used: %v", len(exprs), used)
}
