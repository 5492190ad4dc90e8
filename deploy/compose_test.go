//go:build deploy

package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// The alert UCMGatewayDown selects job="ucm-gateway": on Kubernetes that is the Service's name
// (the ServiceMonitor's default job label), in compose it is the scrape job's name.
func TestJobNameMatchesTheAlerts(t *testing.T) {
	o := loadBase(t)
	var prom struct {
		RuleFiles     []string `json:"rule_files"`
		ScrapeConfigs []struct {
			JobName string `json:"job_name"`
		} `json:"scrape_configs"`
	}
	b, err := os.ReadFile(filepath.Join("compose", "prometheus", "prometheus.yml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &prom))
	require.Len(t, prom.ScrapeConfigs, 1)

	job := regexp.MustCompile(`job="([^"]+)"`)
	for _, g := range o.rule.Spec.Groups {
		for _, r := range g.Rules {
			if m := job.FindStringSubmatch(r.Expr.String()); m != nil {
				assert.Equalf(t, o.service.Name, m[1], "alert %s: job on Kubernetes", r.Alert)
				assert.Equalf(t, prom.ScrapeConfigs[0].JobName, m[1], "alert %s: job in compose", r.Alert)
			}
		}
	}
	for _, f := range prom.RuleFiles {
		_, err := os.Stat(filepath.Join("compose", "prometheus", f))
		assert.NoErrorf(t, err, "prometheus.yml loads %s", f)
	}
}

func TestComposeStack(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			Build       *struct{ Context string }
			Image       string
			Command     []string
			ReadOnly    bool `json:"read_only"`
			Volumes     []string
			Healthcheck *struct{ Test []string }
		}
	}
	b, err := os.ReadFile(filepath.Join("compose", "compose.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &compose))
	gw, ok := compose.Services["gateway"]
	require.True(t, ok, "a gateway service")
	require.NotNil(t, gw.Build)
	_, err = os.Stat(filepath.Join("compose", gw.Build.Context, "Dockerfile"))
	assert.NoError(t, err, "the gateway is built from the repository's Dockerfile")
	assert.Equal(t, []string{"--demo"}, gw.Command)
	assert.True(t, gw.ReadOnly)
	require.NotNil(t, gw.Healthcheck)
	assert.Equal(t, []string{"CMD", "/ucm-gateway", "healthcheck"}, gw.Healthcheck.Test)
	for name, s := range compose.Services {
		if s.Image != "" {
			assert.Regexpf(t, `:v?\d+\.\d+\.\d+$`, s.Image, "service %s pins its image version", name)
		}
		for _, v := range s.Volumes {
			src := regexp.MustCompile(`^([^:]+):`).FindStringSubmatch(v)
			require.NotNilf(t, src, "volume %q", v)
			_, err := os.Stat(filepath.Join("compose", src[1]))
			assert.NoErrorf(t, err, "service %s mounts %s, which exists", name, src[1])
		}
	}
}

func TestDashboardIsWellFormed(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("grafana", "ucm-gateway.json"))
	require.NoError(t, err)
	var dash struct {
		UID    string
		Title  string
		Panels []struct {
			ID         int
			Type       string
			Title      string
			Datasource *struct{ UID string }
			GridPos    *struct{ H, W, X, Y int }
			Targets    []struct{ Expr, RefID string }
		}
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	assert.NotEmpty(t, dash.UID)
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		assert.Falsef(t, ids[p.ID], "panel id %d is unique", p.ID)
		ids[p.ID] = true
		require.NotNilf(t, p.GridPos, "panel %q has a position", p.Title)
		assert.LessOrEqualf(t, p.GridPos.X+p.GridPos.W, 24, "panel %q fits the 24-column grid", p.Title)
		if p.Type == "row" {
			continue
		}
		require.NotNilf(t, p.Datasource, "panel %q has a data source", p.Title)
		assert.Equalf(t, "${datasource}", p.Datasource.UID, "panel %q follows the data source variable", p.Title)
		assert.NotEmptyf(t, p.Targets, "panel %q queries something", p.Title)
	}
}
