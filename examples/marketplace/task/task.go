// Package task is the marketplace's call-for-proposals content, shared by
// the host and the wasm bidder.
package task

import (
	"encoding/json"
	"fmt"
)

// Task is what the auctioneer wants done.
type Task struct {
	Name string  `json:"name"`
	Kind string  `json:"kind"` // "text" or "video"
	Size float64 `json:"size"` // work units
}

// Parse decodes a call's content.
func Parse(b []byte) (Task, error) {
	var t Task
	if err := json.Unmarshal(b, &t); err != nil {
		return Task{}, fmt.Errorf("not a task: %w", err)
	}
	if t.Name == "" || t.Size <= 0 {
		return Task{}, fmt.Errorf("task needs a name and a positive size")
	}
	return t, nil
}

// Encode returns the task's JSON.
func (t Task) Encode() []byte {
	b, _ := json.Marshal(t) // a struct of strings and a number always encodes
	return b
}
