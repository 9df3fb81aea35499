package treetest

import (
	"context"
	"sync"
	"time"
)

// StepClock is a clock that moves only when its Sleep is called: a wait
// timed by Now and Sleep (a timeout, progress lines, a Lease's expiry)
// runs in no wall time, and ends by this clock, not a timer's.
type StepClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewStepClock is a StepClock at t.
func NewStepClock(t time.Time) *StepClock { return &StepClock{t: t} }

// Now is the clock's time.
func (c *StepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Sleep moves the clock by d, or returns ctx's error when it has ended.
func (c *StepClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return nil
}
