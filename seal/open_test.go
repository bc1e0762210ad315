package seal

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenEncryptedRaw(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Kind != "encrypt" || v.Expect == "invalid" {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			s := sealerFor(t, v)
			payload, err := s.openEncrypted(v.Salt, v.Token, new([]byte))
			require.NoError(t, err)
			require.NotEmpty(t, payload)
			assert.Equal(t, byte(131), payload[0])
			if strings.HasSuffix(v.Name, "otp26") {
				data, err := hex.DecodeString(v.DataETFHex)
				require.NoError(t, err)
				assert.Contains(t, string(payload), string(data[1:]))
			}
		})
	}
}
