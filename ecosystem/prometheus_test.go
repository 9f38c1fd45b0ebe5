package ecosystem_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// The runtime's metrics, scraped through the OpenTelemetry Prometheus
// exporter, carry the names and labels telemetry's package doc promises.
func TestPrometheusNamesAreTheDocumentedOnes(t *testing.T) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	require.NoError(t, err)
	rt := caxtontest.NewRuntime(t, caxton.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))))

	first := true
	rt.MustSpawn(caxton.AgentSpec{Name: "billing",
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 2, Backoff: caxton.Backoff{Initial: time.Second}},
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			if first {
				first = false
				return errors.New("ledger busy")
			}
			return mc.Reply(ctx, acl.Inform, []byte("paid"))
		})})
	rt.MustSpawn(caxton.AgentSpec{Name: "broken", Delivery: caxton.DeliveryPolicy{MaxAttempts: 1}, MeasureCPU: true,
		Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error { return errors.New("always") })})
	rt.MustSpawn(caxton.AgentSpec{Name: "guest", Wasm: &caxton.WasmSpec{WAT: testguest.WATNop}})

	done := make(chan error, 1)
	go func() {
		_, err := rt.Request(caxtontest.Context(t), &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"billing"}})
		done <- err
	}()
	rt.AdvanceWhenWaiting(1, time.Second) // the retry's backoff
	require.NoError(t, <-done)
	rt.MustSend(&acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"broken"}})
	rt.AwaitDeadLetters(1)
	rt.MustSend(&acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"guest"}})
	caxtontest.Eventually(t, func() bool {
		info, err := rt.Agent("guest")
		return err == nil && info.Processed == 1
	}, "guest handled its message")

	families, err := reg.Gather()
	require.NoError(t, err)
	var text bytes.Buffer
	for _, f := range families {
		_, err := expfmt.MetricFamilyToText(&text, f)
		require.NoError(t, err)
	}
	out := text.String()
	t.Log(out)
	for _, want := range []string{
		"# TYPE messaging_client_sent_messages_total counter",
		"# TYPE messaging_client_consumed_messages_total counter",
		"# TYPE messaging_process_duration_seconds histogram",
		"# TYPE caxton_messages_retried_total counter",
		"# TYPE caxton_messages_dead_lettered_total counter",
		"# TYPE caxton_mailbox_depth gauge",
		"# TYPE caxton_instances_live gauge",
		"# TYPE caxton_sandbox_memory_usage_bytes gauge",
		"# TYPE caxton_sandbox_fuel_consumed_total counter",
		"# TYPE caxton_handler_cpu_time_seconds_total counter",
		`messaging_destination_name="billing"`,
		`messaging_operation_name="process"`,
		`messaging_system="caxton"`,
		`error_type="_OTHER"`,
		`le="10"`,
		`le="120"`,
		`otel_scope_name="github.com/caxton-go/caxton"`,
	} {
		assert.Contains(t, out, want)
	}
}
