package api

// AgentStatus is an agent as the API shows it: state, version, replicas,
// queue depths, counters and health.
type AgentStatus struct {
	Name          string         `json:"name"`
	State         string         `json:"state"`
	Version       string         `json:"version"`
	Previous      string         `json:"previous,omitempty"`
	Replicas      int            `json:"replicas"`
	QueueDepth    int            `json:"queue_depth"`
	InFlight      int            `json:"in_flight"`
	Processed     uint64         `json:"processed"`
	Failed        uint64         `json:"failed"`
	Retried       uint64         `json:"retried"`
	DeadLettered  uint64         `json:"dead_lettered"`
	Restarts      uint64         `json:"restarts"`
	LastError     string         `json:"last_error,omitempty"`
	Topics        []string       `json:"topics,omitempty"`
	Capabilities  []string       `json:"capabilities,omitempty"`
	Breaker       string         `json:"breaker"`
	Health        string         `json:"health"`
	HealthReasons []string       `json:"health_reasons,omitempty"`
	Rollout       *RolloutStatus `json:"rollout,omitempty"`
}

// RolloutStatus is an upgrade in progress (caxton.Rollout).
type RolloutStatus struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Strategy  string `json:"strategy"`
	Share     int    `json:"share"`
	Instances int    `json:"instances"`
	Handled   uint64 `json:"handled"`
	Failed    uint64 `json:"failed"`
	Crashes   int    `json:"crashes"`
}

// ScaleSpec is the body of POST /v1/agents/{name}/scale.
type ScaleSpec struct {
	Replicas int `json:"replicas"`
}

// DeploySpec is what POST /v1/agents deploys: a WebAssembly agent and its
// settings. The module comes as module_base64, as a path under the
// server's module directory (WithModuleDir), or — in a multipart/form-data
// upload — as the part named "module" beside this spec in the part named
// "spec". Zero fields take the runtime's defaults.
type DeploySpec struct {
	Name            string      `json:"name"`
	Version         string      `json:"version,omitempty"`
	Replicas        int         `json:"replicas,omitempty"`
	MinReplicas     int         `json:"min_replicas,omitempty"`
	MaxReplicas     int         `json:"max_replicas,omitempty"`
	MailboxCapacity int         `json:"mailbox_capacity,omitempty"`
	BatchSize       int         `json:"batch_size,omitempty"`
	MaxAttempts     int         `json:"max_attempts,omitempty"`
	Topics          []string    `json:"topics,omitempty"`
	Capabilities    []string    `json:"capabilities,omitempty"`
	Limits          *LimitsSpec `json:"limits,omitempty"`
	ModuleBase64    string      `json:"module_base64,omitempty"` // standard base64, padded
	Path            string      `json:"path,omitempty"`
}

// LimitsSpec bounds each instance of a wasm agent (sandbox.Limits).
type LimitsSpec struct {
	MaxMemoryBytes int64  `json:"max_memory_bytes,omitempty"`
	BatchDeadline  string `json:"batch_deadline,omitempty"` // a duration, "1s"
	FuelPerBatch   uint64 `json:"fuel_per_batch,omitempty"`
}

// UpgradeSpec is what POST /v1/agents/{name}/upgrade moves an agent to: a
// new module (sent as in DeploySpec), its version label, and the strategy.
type UpgradeSpec struct {
	Version      string        `json:"version,omitempty"`
	Strategy     string        `json:"strategy,omitempty"` // blue-green (default), canary, rolling
	Steps        []int         `json:"steps,omitempty"`    // a canary's shares, in percent
	StepEvery    string        `json:"step_every,omitempty"`
	Watch        string        `json:"watch,omitempty"`
	Drain        string        `json:"drain,omitempty"`
	Rollback     *RollbackSpec `json:"rollback,omitempty"`
	Limits       *LimitsSpec   `json:"limits,omitempty"`
	ModuleBase64 string        `json:"module_base64,omitempty"`
	Path         string        `json:"path,omitempty"`
}

// RollbackSpec is when an upgrade is rolled back automatically
// (caxton.RollbackPolicy).
type RollbackSpec struct {
	MaxCrashes   int     `json:"max_crashes,omitempty"`
	MaxErrorRate float64 `json:"max_error_rate,omitempty"`
	MaxLatency   string  `json:"max_latency,omitempty"`
	MinMessages  int     `json:"min_messages,omitempty"`
}
