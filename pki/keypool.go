package pki

import (
	"context"
	"crypto"
	"io"
	"sync"
)

// KeyPool generates keys in the background on several goroutines, so that
// key generation, which dominates the cost of making a PKI, uses every core
// while the caller signs certificates one after another in a fixed order.
//
// The pool makes exactly the number of keys it was asked for; Get beyond
// that generates on the caller's goroutine. Close stops the workers.
type KeyPool struct {
	alg    KeyAlgorithm
	rand   io.Reader
	keys   chan keyResult
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	pending int // keys the workers will still deliver
}

type keyResult struct {
	key crypto.Signer
	err error
}

// NewKeyPool starts workers goroutines (at least one) that generate n keys
// of algorithm alg with rand. rand must be safe for concurrent use
// (crypto/rand.Reader is).
func NewKeyPool(rand io.Reader, alg KeyAlgorithm, n, workers int) *KeyPool {
	ctx, cancel := context.WithCancel(context.Background())
	p := &KeyPool{alg: alg, rand: rand, keys: make(chan keyResult, n), cancel: cancel, pending: n}
	if workers < 1 {
		workers = 1
	}
	if workers > n {
		workers = n
	}
	jobs := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	for i := 0; i < workers; i++ {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for range jobs {
				if ctx.Err() != nil {
					return
				}
				k, err := GenerateKey(rand, alg)
				p.keys <- keyResult{k, err}
			}
		}()
	}
	return p
}

// Get returns the next key: one made in the background when there is one
// left, otherwise a key generated now.
func (p *KeyPool) Get(ctx context.Context) (crypto.Signer, error) {
	p.mu.Lock()
	fromPool := p.pending > 0
	if fromPool {
		p.pending--
	}
	p.mu.Unlock()
	if !fromPool {
		return GenerateKey(p.rand, p.alg)
	}
	select {
	case r := <-p.keys:
		return r.key, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Algorithm is the algorithm of the keys the pool makes.
func (p *KeyPool) Algorithm() KeyAlgorithm { return p.alg }

// Close stops the workers and waits for them; keys not taken are dropped.
func (p *KeyPool) Close() {
	p.cancel()
	go func() {
		// Drain so that no worker blocks on a full channel.
		for range p.keys {
		}
	}()
	p.wg.Wait()
	close(p.keys)
}
