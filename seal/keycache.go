package seal

import (
	"sync"
	"sync/atomic"
)

// keyCache is a bounded, concurrency-safe cache of derived keys, one per
// (key base, salt) pair of a Sealer. It evicts with the CLOCK algorithm (a
// cheap approximation of least-recently-used): a hit only takes a read lock
// and sets a reference bit. Each entry derives its key exactly once, even when
// many goroutines ask for it at the same moment, so PBKDF2 runs once per pair
// while the pair stays cached.
//
// The cache lives in its Sealer, whose key options are fixed, so a pair
// identifies the options too.
type keyCache struct {
	derive func(base int, salt string) (*derivedKey, error)

	mu    sync.RWMutex
	index map[cacheKey]int // slot of each cached pair
	slots []*cacheSlot
	hand  int // next slot the CLOCK hand looks at
	size  int

	derivations atomic.Int64 // PBKDF2 runs, for tests and benchmarks
}

type cacheKey struct {
	base int // index of the key base: 0 current, then the previous ones
	salt string
}

type cacheSlot struct {
	key   cacheKey
	entry *cacheEntry
	ref   atomic.Bool
}

type cacheEntry struct {
	once sync.Once
	dk   *derivedKey
	err  error
}

func newKeyCache(size int, derive func(base int, salt string) (*derivedKey, error)) *keyCache {
	return &keyCache{derive: derive, index: make(map[cacheKey]int, size), size: size}
}

// get returns the derived key for (base, salt), deriving it on first use.
func (c *keyCache) get(base int, salt string) (*derivedKey, error) {
	k := cacheKey{base: base, salt: salt}
	c.mu.RLock()
	i, ok := c.index[k]
	var e *cacheEntry
	if ok {
		s := c.slots[i]
		if !s.ref.Load() {
			s.ref.Store(true)
		}
		e = s.entry
	}
	c.mu.RUnlock()
	if e == nil {
		e = c.insert(k)
	}
	e.once.Do(func() {
		c.derivations.Add(1)
		e.dk, e.err = c.derive(k.base, k.salt)
	})
	return e.dk, e.err
}

// insert finds or creates the entry for k, evicting one if the cache is full.
func (c *keyCache) insert(k cacheKey) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[k]; ok {
		c.slots[i].ref.Store(true)
		return c.slots[i].entry
	}
	// A new slot starts unreferenced: it earns its second chance only when
	// used again, so a burst of one-off salts cannot push out the hot ones.
	s := &cacheSlot{key: k, entry: &cacheEntry{}}
	if len(c.slots) < c.size {
		c.index[k] = len(c.slots)
		c.slots = append(c.slots, s)
		return s.entry
	}
	for {
		old := c.slots[c.hand]
		if old.ref.Load() {
			old.ref.Store(false)
			c.hand = (c.hand + 1) % len(c.slots)
			continue
		}
		delete(c.index, old.key)
		c.slots[c.hand] = s
		c.index[k] = c.hand
		c.hand = (c.hand + 1) % len(c.slots)
		return s.entry
	}
}

// len reports how many pairs are cached.
func (c *keyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.index)
}
