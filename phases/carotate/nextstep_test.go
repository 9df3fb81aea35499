package carotate

import (
	"strings"
	"testing"
)

// TestNextStep: what a call does from each record, with --to and --abort.
func TestNextStep(t *testing.T) {
	k, _ := kindOf("ca")
	rec := func(stage string, aborting bool) *Record { return &Record{Stage: stage, Aborting: aborting} }
	tests := []struct {
		name    string
		rec     *Record
		o       Options
		started bool
		want    string
		err     string
	}{
		{name: "no record", want: stepTrust},
		{name: "trust", rec: rec(StageTrust, false), want: stepReissue},
		{name: "reissue", rec: rec(StageReissue, false), want: stepFinish},
		{name: "finished starts again", rec: rec(StageFinished, false), want: stepTrust},
		{name: "aborted starts again", rec: rec(StageAborted, false), want: stepTrust},
		{name: "trust, aborting, goes on", rec: rec(StageTrust, true), want: stepReissue},
		{name: "abort from trust", rec: rec(StageTrust, false), o: Options{Abort: true}, want: stepAbort},
		{name: "abort from reissue", rec: rec(StageReissue, false), o: Options{Abort: true}, want: stepAbortReissue},
		{name: "abort without rotation", rec: rec(StageFinished, false), o: Options{Abort: true}, err: "nothing to abort"},
		{name: "--all-stages after a finished rotation starts a new one", rec: rec(StageFinished, false), o: Options{To: "finish"}, want: stepTrust},
		{name: "--all-stages stops at finish", rec: rec(StageFinished, false), o: Options{To: "finish"}, started: true, want: ""},
		{name: "--to reissue from trust", rec: rec(StageTrust, false), o: Options{To: StageReissue}, want: stepReissue},
		{name: "--to reissue reached", rec: rec(StageReissue, false), o: Options{To: StageReissue}, started: true, want: ""},
		{name: "--to trust past it", rec: rec(StageReissue, false), o: Options{To: StageTrust}, err: "past trust"},
		{name: "new CA during a rotation", rec: rec(StageTrust, false), o: Options{NewCAKey: "k"}, err: "chosen already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.nextStep(k, tt.rec, tt.started)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("%q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
