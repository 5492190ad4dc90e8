//go:build deploy

package deploy

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/ucm-gateway/ucm-gateway/internal/config"
)

// The redis component (deploy/components/redis, rendered through deploy/overlays/redis) must
// give a fleet whose configuration loads with Redis on, whose secrets exist, whose Redis is
// found by its Service, and whose HPA may scale beyond the base's ceiling.
func TestRedisComponentMakesAFleet(t *testing.T) {
	bin, err := exec.LookPath("kustomize")
	if err != nil {
		t.Skip("kustomize not installed: go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2")
	}
	out, err := exec.Command(bin, "build", "overlays/redis").Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("kustomize build: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	deployments := map[string]*appsv1.Deployment{}
	services := map[string]*corev1.Service{}
	secrets := map[string]*corev1.Secret{}
	var cm *corev1.ConfigMap
	var hpa *autoscalingv2.HorizontalPodAutoscaler
	for _, doc := range documents(t, out) {
		obj, err := decodeStrict(doc)
		require.NoError(t, err, "object:\n%s", doc)
		switch v := obj.(type) {
		case *appsv1.Deployment:
			deployments[v.Name] = v
		case *corev1.Service:
			services[v.Name] = v
		case *corev1.Secret:
			secrets[v.Name] = v
		case *corev1.ConfigMap:
			cm = v
		case *autoscalingv2.HorizontalPodAutoscaler:
			hpa = v
		}
	}
	gw, rd := deployments["ucm-gateway"], deployments["ucm-gateway-redis"]
	require.NotNil(t, gw)
	require.NotNil(t, rd)
	require.NotNil(t, cm)
	require.NotNil(t, hpa)
	assert.Greater(t, hpa.Spec.MaxReplicas, int32(4), "shared state lifts the base's ceiling")

	env := map[string]string{}
	for _, e := range gw.Spec.Template.Spec.Containers[0].Env {
		ref := e.ValueFrom.SecretKeyRef
		s := secrets[ref.Name]
		require.NotNilf(t, s, "env %s: no Secret %s", e.Name, ref.Name)
		v, ok := s.StringData[ref.Key]
		require.Truef(t, ok, "Secret %s has no key %s", ref.Name, ref.Key)
		env[e.Name] = v
	}
	cfg, err := config.Load([]byte(cm.Data["ucm-gateway.yaml"]), func(k string) string { return env[k] }, nil)
	require.NoError(t, err)
	require.True(t, cfg.Redis.Enabled())
	assert.Len(t, cfg.Redis.CookieKey, 32)

	svc := services["ucm-gateway-redis"]
	require.NotNil(t, svc)
	assert.Equal(t, svc.Name+":6379", cfg.Redis.Addr)
	assert.True(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(rd.Spec.Template.Labels)), "the Service selects Redis")
	assert.False(t, labels.SelectorFromSet(services["ucm-gateway"].Spec.Selector).Matches(labels.Set(rd.Spec.Template.Labels)), "the gateway's Service does not send clients to Redis")
	rc := rd.Spec.Template.Spec.Containers[0]
	assert.Contains(t, rc.Args, "--requirepass")
	assert.True(t, *rc.SecurityContext.ReadOnlyRootFilesystem)
	assert.True(t, *rd.Spec.Template.Spec.SecurityContext.RunAsNonRoot)
}

// The compose stack's replicas share one Redis, and their configuration loads with the key
// the compose file gives them.
func TestComposeReplicasShareRedis(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			Command     []string
			Environment map[string]string
			Volumes     []string
		}
	}
	b, err := os.ReadFile(filepath.Join("compose", "compose.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &compose))
	require.Contains(t, compose.Services, "redis")
	for _, name := range []string{"gateway", "gateway-2"} {
		s, ok := compose.Services[name]
		require.Truef(t, ok, "service %s", name)
		assert.Equal(t, []string{"--demo"}, s.Command)
		assert.Contains(t, s.Volumes, "./gateway:/etc/ucm-gateway:ro")
		key := regexp.MustCompile(`^\$\{UCM_GATEWAY_COOKIE_KEY:-(.+)\}$`).FindStringSubmatch(s.Environment["UCM_GATEWAY_COOKIE_KEY"])
		require.NotNil(t, key, "a default cookie key for the local look")
		data, err := os.ReadFile(filepath.Join("compose", "gateway", "ucm-gateway.yaml"))
		require.NoError(t, err)
		// The file alone has no units; --demo adds one, as Load's caller does here.
		doc := string(data) + "units:\n  - id: demo\n    url: https://127.0.0.1:1\n    username: api\n    password: x\n    tls: {insecure_skip_verify: true}\n"
		cfg, err := config.Load([]byte(doc), func(k string) string {
			if k == "UCM_GATEWAY_COOKIE_KEY" {
				return key[1]
			}
			return ""
		}, nil)
		require.NoError(t, err)
		assert.Equal(t, "redis:6379", cfg.Redis.Addr)
	}
}
