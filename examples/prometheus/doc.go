// Package prometheus holds caxton-rules.yml, Prometheus alerting rules
// written against the metrics Caxton exports (error rate, handling latency,
// agents up or down, circuit breakers, crash loops, backlogs, dead
// letters), and the test that every metric the rules name exists under that
// name when the runtime's OpenTelemetry metrics go through the OpenTelemetry
// Prometheus exporter.
package prometheus
