//go:build deploy

// Package deploy holds no code: its tests validate deploy/ without a cluster. They are behind the
// "deploy" build tag (client-go is heavy) and run from .ci/deploy-check.sh:
//
//	go test -tags deploy ./deploy/
package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/ucm-gateway/ucm-gateway/internal/config"
)

// objects is the rendered base, decoded strictly.
type objects struct {
	deployment     *appsv1.Deployment
	service        *corev1.Service
	configMap      *corev1.ConfigMap
	secret         *corev1.Secret
	serviceAccount *corev1.ServiceAccount
	pdb            *policyv1.PodDisruptionBudget
	hpa            *autoscalingv2.HorizontalPodAutoscaler
	serviceMonitor *monitoringv1.ServiceMonitor
	rule           *monitoringv1.PrometheusRule
}

// rendered returns `kustomize build deploy/kubernetes`, or the file named by DEPLOY_RENDERED.
func rendered(t *testing.T) []byte {
	t.Helper()
	if p := os.Getenv("DEPLOY_RENDERED"); p != "" {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return b
	}
	bin, err := exec.LookPath("kustomize")
	if err != nil {
		t.Fatalf("kustomize not found: go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2, or set DEPLOY_RENDERED")
	}
	out, err := exec.Command(bin, "build", "kubernetes").Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("kustomize build: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	return out
}

// documents splits a multi-document YAML stream and converts each document to JSON, refusing
// duplicate keys.
func documents(t *testing.T, stream []byte) [][]byte {
	t.Helper()
	rd := kyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	var docs [][]byte
	for {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		require.NoError(t, err)
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		j, err := yaml.YAMLToJSONStrict(doc)
		require.NoError(t, err, "document:\n%s", doc)
		docs = append(docs, j)
	}
}

// decodeStrict decodes one object: Kubernetes kinds through the client-go scheme in strict mode
// (unknown fields, wrong types and duplicate fields are errors), Prometheus Operator kinds into
// their Go types with unknown fields refused.
func decodeStrict(doc []byte) (runtime.Object, error) {
	var tm struct{ APIVersion, Kind string }
	if err := json.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	if strings.HasPrefix(tm.APIVersion, "monitoring.coreos.com/") {
		var obj runtime.Object
		switch tm.Kind {
		case "ServiceMonitor":
			obj = &monitoringv1.ServiceMonitor{}
		case "PrometheusRule":
			obj = &monitoringv1.PrometheusRule{}
		default:
			return nil, fmt.Errorf("unexpected kind %s %s", tm.APIVersion, tm.Kind)
		}
		if tm.APIVersion != monitoringv1.SchemeGroupVersion.String() {
			return nil, fmt.Errorf("%s: apiVersion %s, want %s", tm.Kind, tm.APIVersion, monitoringv1.SchemeGroupVersion)
		}
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			return nil, fmt.Errorf("%s: %w", tm.Kind, err)
		}
		return obj, nil
	}
	s := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme, kjson.SerializerOptions{Strict: true})
	obj, _, err := s.Decode(doc, nil, nil)
	return obj, err
}

func loadBase(t *testing.T) objects {
	t.Helper()
	var o objects
	for _, doc := range documents(t, rendered(t)) {
		obj, err := decodeStrict(doc)
		require.NoError(t, err, "object:\n%s", doc)
		switch v := obj.(type) {
		case *appsv1.Deployment:
			o.deployment = v
		case *corev1.Service:
			o.service = v
		case *corev1.ConfigMap:
			o.configMap = v
		case *corev1.Secret:
			o.secret = v
		case *corev1.ServiceAccount:
			o.serviceAccount = v
		case *policyv1.PodDisruptionBudget:
			o.pdb = v
		case *autoscalingv2.HorizontalPodAutoscaler:
			o.hpa = v
		case *monitoringv1.ServiceMonitor:
			o.serviceMonitor = v
		case *monitoringv1.PrometheusRule:
			o.rule = v
		default:
			t.Fatalf("unexpected object %T", obj)
		}
	}
	return o
}

// The decoder itself must refuse what kubectl would: otherwise every check below proves nothing.
func TestDecodeStrictRefusesMistakes(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{name: "unknown field", doc: `{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"},"spec":{"selectr":{"a":"b"}}}`},
		{name: "wrong type", doc: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"},"spec":{"replicas":"two"}}`},
		{name: "misplaced probe", doc: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"},"spec":{"template":{"spec":{"readinessProbe":{}}}}}`},
		{name: "unknown kind", doc: `{"apiVersion":"v1","kind":"Servic","metadata":{"name":"x"}}`},
		{name: "CRD unknown field", doc: `{"apiVersion":"monitoring.coreos.com/v1","kind":"ServiceMonitor","metadata":{"name":"x"},"spec":{"endpoint":[]}}`},
		{name: "CRD wrong type", doc: `{"apiVersion":"monitoring.coreos.com/v1","kind":"PrometheusRule","metadata":{"name":"x"},"spec":{"groups":[{"name":"g","rules":[{"alert":"A","expr":"up","for":5}]}]}}`},
		{name: "CRD wrong version", doc: `{"apiVersion":"monitoring.coreos.com/v2","kind":"PrometheusRule","metadata":{"name":"x"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeStrict([]byte(tt.doc))
			assert.Errorf(t, err, "decodeStrict(%s) = nil; want an error", tt.doc)
		})
	}
}

func TestBaseRendersEveryObjectStrictly(t *testing.T) {
	o := loadBase(t)
	for name, present := range map[string]bool{
		"Deployment": o.deployment != nil, "Service": o.service != nil, "ConfigMap": o.configMap != nil,
		"Secret": o.secret != nil, "ServiceAccount": o.serviceAccount != nil, "PodDisruptionBudget": o.pdb != nil,
		"HorizontalPodAutoscaler": o.hpa != nil, "ServiceMonitor": o.serviceMonitor != nil, "PrometheusRule": o.rule != nil,
	} {
		assert.Truef(t, present, "the base has no %s", name)
	}
}

func TestDeploymentRunsLockedDownWithProbes(t *testing.T) {
	o := loadBase(t)
	d := o.deployment
	require.NotNil(t, d)
	pod := d.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]

	require.NotNil(t, pod.SecurityContext)
	assert.True(t, *pod.SecurityContext.RunAsNonRoot, "runAsNonRoot")
	assert.Equal(t, int64(65532), *pod.SecurityContext.RunAsUser, "the image's user")
	require.NotNil(t, c.SecurityContext)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem, "readOnlyRootFilesystem")
	assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation, "allowPrivilegeEscalation")
	assert.Equal(t, []corev1.Capability{"ALL"}, c.SecurityContext.Capabilities.Drop)
	assert.False(t, *pod.AutomountServiceAccountToken)

	require.NotNil(t, c.ReadinessProbe)
	require.NotNil(t, c.LivenessProbe)
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
	assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
	assert.Equal(t, "http", c.ReadinessProbe.HTTPGet.Port.String())
	assert.False(t, c.Resources.Requests.Cpu().IsZero(), "cpu request (the HPA needs it)")
	assert.False(t, c.Resources.Limits.Memory().IsZero(), "memory limit")

	// The configuration the ConfigMap carries must load, with the Secret's keys as environment.
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			assert.Equal(t, o.secret.Name, e.ValueFrom.SecretKeyRef.Name, "env %s from the Secret", e.Name)
			_, ok := o.secret.StringData[e.ValueFrom.SecretKeyRef.Key]
			assert.Truef(t, ok, "the Secret has no key %s", e.ValueFrom.SecretKeyRef.Key)
			env[e.Name] = "x"
		}
	}
	require.Equal(t, []string{"--config", "/etc/ucm-gateway/ucm-gateway.yaml"}, c.Args)
	var mounted bool
	for _, m := range c.VolumeMounts {
		mounted = mounted || (m.MountPath == "/etc/ucm-gateway" && m.ReadOnly)
	}
	assert.True(t, mounted, "the ConfigMap is mounted read-only at /etc/ucm-gateway")
	cfg, err := config.Load([]byte(o.configMap.Data["ucm-gateway.yaml"]), func(k string) string { return env[k] }, os.ReadFile)
	require.NoError(t, err, "the ConfigMap's configuration")

	// Graceful shutdown fits in the grace period: preStop pause + shutdown_timeout.
	grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	var preStop time.Duration
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	assert.Greaterf(t, grace, preStop+cfg.Server.ShutdownTimeout, "terminationGracePeriodSeconds %v must exceed preStop %v + shutdown_timeout %v", grace, preStop, cfg.Server.ShutdownTimeout)
}

// Selectors must find what they are meant to find: a typo here renders and decodes fine but
// leaves the Service without endpoints or the ServiceMonitor without targets.
func TestSelectorsAndReferencesMatch(t *testing.T) {
	o := loadBase(t)
	podLabels := labels.Set(o.deployment.Spec.Template.Labels)
	sel := labels.SelectorFromSet(o.deployment.Spec.Selector.MatchLabels)
	assert.True(t, sel.Matches(podLabels), "the Deployment's selector matches its pods")
	assert.True(t, labels.SelectorFromSet(o.service.Spec.Selector).Matches(podLabels), "the Service selects the pods")
	assert.True(t, labels.SelectorFromSet(o.pdb.Spec.Selector.MatchLabels).Matches(podLabels), "the PDB selects the pods")
	assert.Equal(t, o.deployment.Name, o.hpa.Spec.ScaleTargetRef.Name)
	assert.Equal(t, "Deployment", o.hpa.Spec.ScaleTargetRef.Kind)
	assert.GreaterOrEqual(t, *o.hpa.Spec.MinReplicas, int32(2), "two replicas at least, or the PDB blocks every drain")
	assert.Equal(t, o.serviceAccount.Name, o.deployment.Spec.Template.Spec.ServiceAccountName)

	smSel := labels.SelectorFromSet(o.serviceMonitor.Spec.Selector.MatchLabels)
	assert.True(t, smSel.Matches(labels.Set(o.service.Labels)), "the ServiceMonitor selects the Service")
	ports := map[string]bool{}
	for _, p := range o.service.Spec.Ports {
		ports[p.Name] = true
	}
	for _, ep := range o.serviceMonitor.Spec.Endpoints {
		assert.Truef(t, ports[ep.Port], "ServiceMonitor port %q is a named port of the Service", ep.Port)
		assert.Equal(t, "/metrics", ep.Path)
	}
	var cport bool
	for _, p := range o.deployment.Spec.Template.Spec.Containers[0].Ports {
		cport = cport || p.Name == o.service.Spec.Ports[0].TargetPort.String()
	}
	assert.True(t, cport, "the Service's targetPort names a container port")
}

// The compose stack's plain rules file carries the same groups as the PrometheusRule.
func TestComposeRulesEqualPrometheusRule(t *testing.T) {
	o := loadBase(t)
	b, err := os.ReadFile(filepath.Join("compose", "prometheus", "rules.yaml"))
	require.NoError(t, err)
	j, err := yaml.YAMLToJSONStrict(b)
	require.NoError(t, err)
	var compose monitoringv1.PrometheusRuleSpec
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&compose))
	assert.Equal(t, o.rule.Spec, compose, "deploy/compose/prometheus/rules.yaml differs from deploy/kubernetes/prometheusrule.yaml")
}
