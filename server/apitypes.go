package server

import "github.com/caxton-go/caxton/server/api"

// The API's wire types and errors live in package api, which clients
// import without compiling the runtime; they are re-exported here so that
// code mounting the server needs one import.
type (
	// AgentStatus is api.AgentStatus.
	AgentStatus = api.AgentStatus
	// RolloutStatus is api.RolloutStatus.
	RolloutStatus = api.RolloutStatus
	// ScaleSpec is api.ScaleSpec.
	ScaleSpec = api.ScaleSpec
	// DeploySpec is api.DeploySpec.
	DeploySpec = api.DeploySpec
	// LimitsSpec is api.LimitsSpec.
	LimitsSpec = api.LimitsSpec
	// UpgradeSpec is api.UpgradeSpec.
	UpgradeSpec = api.UpgradeSpec
	// RollbackSpec is api.RollbackSpec.
	RollbackSpec = api.RollbackSpec
	// SendResult is api.SendResult.
	SendResult = api.SendResult
	// DeadLetterView is api.DeadLetterView.
	DeadLetterView = api.DeadLetterView
	// DeadLetterIDs is api.DeadLetterIDs.
	DeadLetterIDs = api.DeadLetterIDs
	// DeadLetterResult is api.DeadLetterResult.
	DeadLetterResult = api.DeadLetterResult
	// LogView is api.LogView.
	LogView = api.LogView
	// EventView is api.EventView.
	EventView = api.EventView
	// AuditRecord is api.AuditRecord.
	AuditRecord = api.AuditRecord
	// Outcome is api.Outcome.
	Outcome = api.Outcome
	// WSFrame is api.WSFrame.
	WSFrame = api.WSFrame
	// Problem is api.Problem.
	Problem = api.Problem
)

// The outcomes of audited calls (api.Outcome).
const (
	OutcomeOK     = api.OutcomeOK
	OutcomeFailed = api.OutcomeFailed
	OutcomeDenied = api.OutcomeDenied
)

// The kinds of WebSocket gateway frame (api.WSFrame.Type).
const (
	FrameJoined  = api.FrameJoined
	FrameMessage = api.FrameMessage
	FrameAck     = api.FrameAck
	FrameNack    = api.FrameNack
	FrameSend    = api.FrameSend
	FrameSent    = api.FrameSent
	FrameError   = api.FrameError
)

// Problem details' media type and type prefix (api).
const (
	ProblemContentType = api.ProblemContentType
	ProblemTypeBase    = api.ProblemTypeBase
)

// The API's sentinel errors (package api documents each).
var (
	ErrUnauthorized         = api.ErrUnauthorized
	ErrForbidden            = api.ErrForbidden
	ErrBadRequest           = api.ErrBadRequest
	ErrNotFound             = api.ErrNotFound
	ErrTooLarge             = api.ErrTooLarge
	ErrRateLimited          = api.ErrRateLimited
	ErrUnsupportedMediaType = api.ErrUnsupportedMediaType
	ErrAlreadyJoined        = api.ErrAlreadyJoined
)
