//go:build examples

// Run with go test -tags examples ./examples/... (CI does; see the README).

package prometheus_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Every metric the rules name is exported under that name by a runtime
// whose meter provider feeds the OpenTelemetry Prometheus exporter.
func TestRulesNameExportedMetrics(t *testing.T) {
	reg := promclient.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	require.NoError(t, err)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })

	rt := caxtontest.NewRuntime(t, caxton.WithMeterProvider(mp))
	fail := true
	rt.MustSpawn(caxton.AgentSpec{Name: "billing",
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 1},
		Breaker:  caxton.BreakerPolicy{Failures: 100, Cooldown: time.Minute},
		Restart:  caxton.RestartPolicy{Backoff: caxton.Backoff{Initial: time.Millisecond}},
		NewHandler: func(context.Context, caxton.InstanceInfo) (caxton.Handler, error) {
			return caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
				if fail {
					fail = false
					return errors.New("once")
				}
				return nil
			}), nil
		}})
	for range 2 {
		rt.MustSend(&acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"billing"}})
	}
	rt.AwaitDeadLetters(1)
	caxtontest.Eventually(t, func() bool { info, _ := rt.Agent("billing"); return info.Processed == 1 }, "one handled")

	families, err := reg.Gather()
	require.NoError(t, err)
	var exported []string
	seenLabels := map[string]bool{}
	for _, f := range families {
		exported = append(exported, f.GetName())
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				seenLabels[l.GetName()] = true
			}
		}
		if f.GetType().String() == "HISTOGRAM" {
			exported = append(exported, f.GetName()+"_bucket", f.GetName()+"_sum", f.GetName()+"_count")
		}
	}
	rules, err := os.ReadFile("caxton-rules.yml")
	require.NoError(t, err)
	named := regexp.MustCompile(`\b(?:caxton|messaging|error)_[a-z_]+\b`).FindAllString(string(rules), -1)
	require.NotEmpty(t, named)
	labels := map[string]bool{"messaging_destination_name": true, "caxton_state": true, "error_type": true}
	for _, n := range named {
		if labels[n] {
			require.True(t, seenLabels[n], "the rules use the label %s, which no metric carries", n)
			continue
		}
		require.True(t, slices.Contains(exported, n), "the rules use %s, which is not exported; exported: %v", n, exported)
	}
}
