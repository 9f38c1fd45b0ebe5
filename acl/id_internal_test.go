package acl

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// All 74 random bits of an id come from the generator's ChaCha8 stream, in
// the documented places: 12 bits of the first draw in rand_a (after the
// version nibble), 62 bits of the second in rand_b (after the variant).
// Black-box tests cannot see a lost or constant bit, so this test draws the
// same stream beside the generator and rebuilds each id from it.
func TestIDGeneratorLayoutKeepsEveryRandomBit(t *testing.T) {
	seed := [32]byte{1, 2, 3}
	g := &IDGenerator{}
	stream := rand.NewChaCha8(seed)
	g.pool.New = func() any { return stream } // one stream, even when the pool drops it or changes P
	ref := rand.NewChaCha8(seed)
	at := time.UnixMilli(0x01934bcdef01)
	for range 2000 {
		id := g.New(at)
		hi, lo := ref.Uint64(), ref.Uint64()
		require.Equal(t, []byte{0x01, 0x93, 0x4b, 0xcd, 0xef, 0x01}, id[:6], "timestamp")
		require.Equal(t, byte(0x70)|byte(hi&0x0f), id[6], "version and rand_a's top nibble")
		require.Equal(t, byte(hi>>8), id[7], "rand_a's low byte")
		require.Equal(t, lo&^(uint64(3)<<62)|uint64(2)<<62, binary.BigEndian.Uint64(id[8:]), "variant and rand_b")
	}
}
