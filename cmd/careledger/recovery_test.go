package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/nodetest"
)

// TestRecoveryCommands recovers a patient's account with the CLI against a
// node run as a separate process, initialized with a one-second minimum
// delay: two guardians, a proposal cancelled by the patient, another made
// from the new key's printed proof, approval, and completion by the new
// key, which then signs for the patient while the old key signs for none.
func TestRecoveryCommands(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))
	careledger(t, "init", "--home", home, "--http", httpAddr, "--p2p", fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t)),
		"--min-recovery-delay", "1s")
	startNode(t, home)
	nodetest.WaitHeight(t, client.New("http://"+httpAddr), 1)
	env := []string{"CARELEDGER_HOME=" + home, "CARELEDGER_NODE=http://" + httpAddr}
	try := func(args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		out, err := try(args...)
		if (err == nil) != wantOK {
			t.Fatalf("careledger %s: err = %v; want ok = %v\n%s", strings.Join(args, " "), err, wantOK, out)
		}
		return strings.TrimSpace(string(out))
	}
	addr := map[string]string{}
	for _, name := range []string{"pat", "g1", "g2"} {
		run(true, "keys", "new", name)
		run(true, "tx", "register-patient", "--key", name)
		addr[name] = run(true, "keys", "show", "--address", name)
	}
	p := addr["pat"]
	if out := run(false, "tx", "set-guardians", "--key", "pat", "--guardians", addr["g1"]+","+addr["g2"], "--threshold", "2", "--delay", "500ms"); !strings.Contains(out, "whole number of seconds") {
		t.Errorf("set-guardians --delay 500ms: %s; want a usage error", out)
	}
	run(true, "tx", "set-guardians", "--key", "pat", "--guardians", addr["g1"]+","+addr["g2"], "--threshold", "2", "--delay", "1s")

	// A proposal from a key held here, which the patient cancels.
	run(true, "keys", "new", "other")
	run(true, "tx", "propose-recovery", "--key", "g1", p, "other")
	run(true, "tx", "cancel-recovery", "--key", "pat", p, "1")

	// The patient makes a key on a new device and hands its proof over.
	run(true, "keys", "new", "pat-new")
	var proof map[string]string
	mustJSON(t, run(true, "keys", "recovery-proof", "--patient", p, "pat-new"), &proof)
	run(true, "tx", "propose-recovery", "--key", "g1", "--proof", proof["proof"], p, proof["new_pub_key"])
	var rec v1.RecoveryAnswer
	mustJSON(t, run(true, "query", "recovery", "--key", "g2", p), &rec)
	if rec.Guardians == nil || rec.Guardians.Pending == nil || rec.Guardians.Pending.ID != 2 {
		t.Fatalf("query recovery as g2: %+v; want recovery 2 pending", rec)
	}
	run(true, "tx", "approve-recovery", "--key", "g2", p, "2")
	// Refused until a block's time reaches the effective time.
	for i := 0; ; i++ {
		out, err := try("tx", "complete-recovery", "--key", "pat-new", p, "2")
		if err == nil {
			break
		}
		if !strings.Contains(out, "takes effect at") || i == 50 {
			t.Fatalf("complete-recovery by the new key: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := run(true, "keys", "show", "--address", "pat-new"); got != p {
		t.Errorf("keys show --address pat-new = %s; want the recovered account %s", got, p)
	}
	if out := run(false, "tx", "remove-guardians", "--key", "pat"); !strings.Contains(out, "unknown_signer") {
		t.Errorf("old key after recovery: %s; want unknown_signer", out)
	}
	run(true, "tx", "remove-guardians", "--key", "pat-new")
}
