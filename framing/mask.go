package framing

import "encoding/binary"

// MaskBytes masks or unmasks b in place with key, the way RFC 6455 §5.3
// writes it:
//
//	"Octet i of the transformed data ("transformed-octet-i") is the XOR of
//	octet i of the original data ("original-octet-i") with octet at index
//	i modulo 4 of the masking key ("masking-key-octet-j"):
//
//	  j                   = i MOD 4
//	  transformed-octet-i = original-octet-i XOR masking-key-octet-j"
//
// XOR undoes itself, so the same call masks and unmasks. pos is the index
// within the payload of b[0], so a payload can be processed in pieces: pass
// the returned value (the position after b, modulo 4) to the next call.
//
// This is the loop the lessons teach; [Mask] is the fast version.
func MaskBytes(key [4]byte, pos int, b []byte) int {
	pos &= 3 // only pos modulo 4 matters
	for i := range b {
		b[i] ^= key[(pos+i)%4]
	}
	return (pos + len(b)) % 4
}

// Mask does exactly what [MaskBytes] does, 8 bytes at a time: it repeats
// the key (rotated to start at pos) into a 64-bit word and XORs the payload
// with it one word at a time, using encoding/binary (no unsafe). Tests check
// that it agrees with MaskBytes for every length, position and alignment.
func Mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	if len(b) < 8 {
		return MaskBytes(key, pos, b)
	}
	// The key as it lines up with b[0]: byte pos of the key comes first.
	rot := [4]byte{key[pos], key[(pos+1)&3], key[(pos+2)&3], key[(pos+3)&3]}
	k32 := uint64(binary.LittleEndian.Uint32(rot[:]))
	k := k32 | k32<<32
	n := len(b)
	// 32 bytes per iteration; 8 is a multiple of 4, so the key stays aligned.
	for len(b) >= 32 {
		binary.LittleEndian.PutUint64(b[0:8], binary.LittleEndian.Uint64(b[0:8])^k)
		binary.LittleEndian.PutUint64(b[8:16], binary.LittleEndian.Uint64(b[8:16])^k)
		binary.LittleEndian.PutUint64(b[16:24], binary.LittleEndian.Uint64(b[16:24])^k)
		binary.LittleEndian.PutUint64(b[24:32], binary.LittleEndian.Uint64(b[24:32])^k)
		b = b[32:]
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= rot[i&3]
	}
	return (pos + n) & 3
}
