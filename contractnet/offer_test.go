package contractnet_test

import (
	"math"
	"testing"

	"github.com/caxton-go/caxton/contractnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOfferRoundTrip(t *testing.T) {
	for _, o := range []contractnet.Offer{
		{Cost: 0},
		{Cost: 12.5, Score: 0.9},
		{Cost: -3, Score: -1, Detail: []byte(`{"eta":"2h","stops":[1,2]}`)},
		{Cost: math.MaxFloat64, Score: math.SmallestNonzeroFloat64},
	} {
		b, err := o.Encode()
		require.NoError(t, err)
		got, err := contractnet.ParseOffer(b)
		require.NoError(t, err, string(b))
		assert.Equal(t, o, got)
	}
	b, err := contractnet.Offer{Cost: 0}.Encode()
	require.NoError(t, err)
	assert.JSONEq(t, `{"cost":0}`, string(b), "cost is always there, so a free bid is explicit")
}

func TestOfferEncodeRejectsNonFiniteNumbers(t *testing.T) {
	for name, o := range map[string]contractnet.Offer{
		"NaN cost":   {Cost: math.NaN()},
		"+Inf cost":  {Cost: math.Inf(1)},
		"-Inf cost":  {Cost: math.Inf(-1)},
		"NaN score":  {Cost: 1, Score: math.NaN()},
		"+Inf score": {Cost: 1, Score: math.Inf(1)},
	} {
		_, err := o.Encode()
		assert.ErrorContains(t, err, "not a finite number", name)
	}
}

func TestParseOfferIsStrict(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"empty", ``, "not an offer"},
		{"unknown field", `{"cost":1,"cots":0}`, "unknown field"},
		{"only a typo", `{"cots":1}`, "unknown field"},
		{"no cost", `{"score":1}`, "no cost"},
		{"empty object", `{}`, "no cost"},
		{"null", `null`, "no cost"},
		{"cost null", `{"cost":null}`, "no cost"},
		{"string cost", `{"cost":"1"}`, "not an offer"},
		{"array", `[1]`, "not an offer"},
		{"bare number", `1`, "not an offer"},
		{"second value", `{"cost":1} {"cost":2}`, "after the offer"},
		{"trailing garbage", `{"cost":1}x`, "after the offer"},
		{"trailing brace", `{"cost":1}}`, "after the offer"},
		{"trailing bracket", `{"cost":1}]`, "after the offer"},
		{"truncated", `{"cost":1`, "not an offer"},
		{"overflowing cost", `{"cost":1e999}`, "not an offer"},
		{"NaN as a string", `{"cost":"NaN"}`, "not an offer"},
		{"bad detail", `{"cost":1,"detail":nope}`, "not an offer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := contractnet.ParseOffer([]byte(tt.in))
			require.Error(t, err)
			assert.ErrorContains(t, err, tt.msg)
			assert.Zero(t, o)
		})
	}
	o, err := contractnet.ParseOffer([]byte(" \n{\"cost\": 2, \"score\": 1}\n\t"))
	require.NoError(t, err, "surrounding white space is fine")
	assert.Equal(t, contractnet.Offer{Cost: 2, Score: 1}, o)
}
