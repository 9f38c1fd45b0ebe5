// Package ecosystem checks Caxton against the tools its users run beside
// it — the OpenTelemetry Prometheus exporter, whose metric names are the
// ones alert rules use (telemetry's package doc maps them), and the Go
// toolchain as a consumer runs it: scratch modules importing the root
// package or cluster are tidied offline, and their go.mod and go.sum must
// hold only the modules those packages use (or the listed, justified
// test-only ones). It is a
// module of its own so that those tools (the Prometheus client and its
// dependencies) are not dependencies of the caxton module: a program
// importing caxton does not download or list them. Run its tests with
//
//	cd ecosystem && go test ./...
package ecosystem
