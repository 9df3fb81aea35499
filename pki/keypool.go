package pki

import (
	"context"
	"crypto"
	"io"
	"sync"
	"sync/atomic"
)

// KeyPool generates keys in the background on several goroutines, so that
// key generation, which dominates the cost of making a PKI, uses every core
// while the caller signs certificates one after another in a fixed order.
//
// Workers race: a worker starts a new key whenever fewer keys are ready than
// the caller still needs, whatever the other workers are doing. RSA key
// generation time varies widely (it searches for primes at random), so when
// the last keys are needed every core works on them and the first one done
// is used, instead of one core finishing the last key while the others idle.
// A key that is no longer needed is dropped.
type KeyPool struct {
	alg    KeyAlgorithm
	rand   io.Reader
	closed atomic.Bool

	mu     sync.Mutex
	cond   *sync.Cond
	ready  []keyResult
	needed int // keys the caller will still take from the pool

	workers sync.WaitGroup // for tests and benchmarks: Close does not wait
}

type keyResult struct {
	key crypto.Signer
	err error
}

// NewKeyPool starts workers goroutines (at least one) that generate the n
// keys of algorithm alg the caller will ask for. rand must be safe for
// concurrent use (crypto/rand.Reader is).
func NewKeyPool(rand io.Reader, alg KeyAlgorithm, n, workers int) *KeyPool {
	p := &KeyPool{alg: alg, rand: rand, needed: n}
	p.cond = sync.NewCond(&p.mu)
	workers = min(max(workers, 1), n)
	for range workers {
		p.workers.Go(p.work)
	}
	return p
}

func (p *KeyPool) work() {
	for {
		p.mu.Lock()
		more := p.needed > len(p.ready) && !p.closed.Load()
		p.mu.Unlock()
		if !more {
			return
		}
		k, err := GenerateKey(p.rand, p.alg)
		p.mu.Lock()
		if p.needed > len(p.ready) {
			p.ready = append(p.ready, keyResult{k, err})
			p.cond.Signal()
		}
		p.mu.Unlock()
	}
}

// Get returns the next key: one made in the background while the pool still
// owes keys, otherwise a key generated now.
func (p *KeyPool) Get(ctx context.Context) (crypto.Signer, error) {
	p.mu.Lock()
	if p.needed == 0 {
		p.mu.Unlock()
		return GenerateKey(p.rand, p.alg)
	}
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	for len(p.ready) == 0 {
		if err := ctx.Err(); err != nil {
			p.mu.Unlock()
			return nil, err
		}
		p.cond.Wait()
	}
	r := p.ready[0]
	p.ready = p.ready[1:]
	p.needed--
	p.mu.Unlock()
	return r.key, r.err
}

// Close tells the workers to stop. It does not wait for a key being
// generated: that goroutine ends when its key is done, and the key is dropped.
func (p *KeyPool) Close() {
	p.closed.Store(true)
}
