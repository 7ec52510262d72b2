package train

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEpochRecordEvaluated(t *testing.T) {
	for _, tc := range []struct {
		line string
		want bool
	}{
		{`{"epoch":0,"lr_factor":1,"train_loss":0.5,"test_acc":0.91,"test_nll":0.3}`, true},
		{`{"epoch":0,"lr_factor":1,"train_loss":0.5}`, false},
		// Older files wrote zeros for epochs without an evaluation.
		{`{"epoch":0,"lr_factor":1,"train_loss":0.5,"test_acc":0,"test_nll":0}`, false},
	} {
		var r EpochRecord
		if err := json.Unmarshal([]byte(tc.line), &r); err != nil {
			t.Fatal(err)
		}
		if got := r.Evaluated(); got != tc.want {
			t.Errorf("%s: Evaluated() = %v, want %v", tc.line, got, tc.want)
		}
	}
	// An epoch without an evaluation writes no test fields at all.
	b, err := json.Marshal(EpochRecord{Epoch: 3, TrainLoss: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, "test_") {
		t.Errorf("unevaluated epoch marshals test fields: %s", s)
	}
}
