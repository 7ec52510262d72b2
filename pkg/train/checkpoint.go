package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
)

// Checkpoint is everything needed to continue a run exactly where it
// stopped: parameters, optimizer state, BatchNorm running statistics, the
// random-stream positions and the data-order position.
type Checkpoint struct {
	ConfigHash string `json:"config_hash"`
	// Epoch and Batch are the position to continue from: the next batch to
	// train is batch Batch of epoch Epoch (Batch 0 after an epoch ended).
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
	// LossSum and Steps accumulate the current epoch's training loss.
	LossSum float64 `json:"loss_sum"`
	Steps   int     `json:"steps"`
	Seen    int     `json:"seen"`
	// NoiseStep is the bSAM noise stream's step counter; Count the Adam
	// step counter.
	NoiseStep uint64 `json:"noise_step"`
	Count     int64  `json:"count"`
	// Records are the epoch records so far (metrics.jsonl is rebuilt from
	// them on resume).
	Records []EpochRecord `json:"records"`
	// Arrays are the flat vectors, in the order of the file.
	Arrays []ArrayInfo `json:"arrays"`

	data map[string][]float32
}

// ArrayInfo names one vector stored in a checkpoint.
type ArrayInfo struct {
	Name string `json:"name"`
	Len  int    `json:"len"`
}

const ckptMagic = "BSAMCKP1"

// Set stores a copy of a vector under name.
func (c *Checkpoint) Set(name string, v []float32) {
	if c.data == nil {
		c.data = map[string][]float32{}
	}
	c.data[name] = append([]float32(nil), v...)
}

// Get returns the vector stored under name, or an error naming it when it
// is missing or has another length.
func (c *Checkpoint) Get(name string, n int) ([]float32, error) {
	v, ok := c.data[name]
	if !ok {
		return nil, fmt.Errorf("checkpoint has no %q", name)
	}
	if len(v) != n {
		return nil, fmt.Errorf("checkpoint %q has %d values, the run needs %d", name, len(v), n)
	}
	return v, nil
}

// Encode serialises the checkpoint: magic, header length, JSON header,
// little-endian float32 arrays, then a SHA-256 of everything before it.
func (c *Checkpoint) Encode() []byte {
	names := make([]string, 0, len(c.data))
	for k := range c.data {
		names = append(names, k)
	}
	sort.Strings(names)
	c.Arrays = c.Arrays[:0]
	size := 0
	for _, n := range names {
		c.Arrays = append(c.Arrays, ArrayInfo{Name: n, Len: len(c.data[n])})
		size += 4 * len(c.data[n])
	}
	hdr, err := json.Marshal(c)
	if err != nil {
		panic(err) // plain data always marshals
	}
	buf := bytes.NewBuffer(make([]byte, 0, len(ckptMagic)+4+len(hdr)+size+sha256.Size))
	buf.WriteString(ckptMagic)
	binary.Write(buf, binary.LittleEndian, uint32(len(hdr)))
	buf.Write(hdr)
	var w [4]byte
	for _, n := range names {
		for _, v := range c.data[n] {
			binary.LittleEndian.PutUint32(w[:], math.Float32bits(v))
			buf.Write(w[:])
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	return buf.Bytes()
}

// DecodeCheckpoint parses and verifies a checkpoint written by Encode.
func DecodeCheckpoint(b []byte) (*Checkpoint, error) {
	if len(b) < len(ckptMagic)+4+sha256.Size || string(b[:len(ckptMagic)]) != ckptMagic {
		return nil, errors.New("not a bsam checkpoint")
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, errors.New("checkpoint is corrupt (checksum mismatch)")
	}
	p := len(ckptMagic)
	hl := int(binary.LittleEndian.Uint32(body[p:]))
	p += 4
	if hl < 0 || p+hl > len(body) {
		return nil, errors.New("checkpoint header length out of range")
	}
	c := &Checkpoint{}
	if err := json.Unmarshal(body[p:p+hl], c); err != nil {
		return nil, fmt.Errorf("checkpoint header: %w", err)
	}
	p += hl
	c.data = map[string][]float32{}
	for _, a := range c.Arrays {
		if a.Len < 0 || p+4*a.Len > len(body) {
			return nil, fmt.Errorf("checkpoint array %q runs past the end", a.Name)
		}
		v := make([]float32, a.Len)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[p:]))
			p += 4
		}
		c.data[a.Name] = v
	}
	if p != len(body) {
		return nil, errors.New("checkpoint has trailing bytes")
	}
	return c, nil
}

// ReadCheckpoint reads and verifies the checkpoint at path.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := DecodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
