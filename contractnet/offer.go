package contractnet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// Offer is the standard content of a propose: what the bidder asks (Cost)
// and how good it claims to be (Score), plus free-form Detail. Every bidder
// — a native Participant, a wasm one built with the guest SDK, or a
// hand-written agent in any language — sends the same JSON
// ({"cost":12.5,"score":0.9,"detail":{...}}), so the built-in selectors
// compare bids from all of them.
type Offer struct {
	Cost   float64         `json:"cost"`
	Score  float64         `json:"score,omitempty"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

// Encode returns the offer's JSON. Cost and Score must be finite.
func (o Offer) Encode() ([]byte, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return json.Marshal(o)
}

func (o Offer) check() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"cost", o.Cost}, {"score", o.Score}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("contractnet: offer %s %v is not a finite number", f.name, f.v)
		}
	}
	return nil
}

// ParseOffer decodes a propose's content as an Offer. It is strict — an
// unknown field, a missing cost, or anything after the offer is an error —
// because a selector compares offers and a mistyped "cots" (or a bare null)
// must not read as a free bid.
func ParseOffer(b []byte) (Offer, error) {
	var in struct {
		Cost   *float64        `json:"cost"`
		Score  float64         `json:"score"`
		Detail json.RawMessage `json:"detail"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Offer{}, fmt.Errorf("contractnet: proposal content is not an offer: %w", err)
	}
	// More misses a stray '}' or ']'; only the end of the input will do.
	if _, err := dec.Token(); err != io.EOF {
		return Offer{}, fmt.Errorf("contractnet: proposal content has data after the offer")
	}
	if in.Cost == nil {
		return Offer{}, fmt.Errorf("contractnet: proposal content is not an offer: no cost")
	}
	o := Offer{Cost: *in.Cost, Score: in.Score, Detail: in.Detail}
	if err := o.check(); err != nil {
		return Offer{}, err
	}
	return o, nil
}
