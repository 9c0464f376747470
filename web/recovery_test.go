package web_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// newPatient makes a patient key in the tab's browser, registers it and
// returns its address.
func (p *page) newPatient(name string) string {
	p.b.t.Helper()
	p.fill("#new-name", name)
	p.fill("#new-pass", name+"'s backup passphrase")
	p.click("#create button[type=submit]")
	p.click("#continue")
	return p.text("#patient-address")
}

// signInFails signs out, then checks on the sign-in page that the stored
// key name cannot sign in.
func (p *page) signInFails(name string) {
	p.b.t.Helper()
	p.goTo("#/")
	eval[bool](p, "sign out, clear the status", `(document.querySelector("#who button")?.click(), document.querySelector("#status").replaceChildren(), true)`)
	p.click(`button[data-key=` + jsString(name) + `]`)
	p.waitFor("the sign-in refused", `document.querySelector("#status p.error")`)
	if eval[bool](p, "look for a session", `!!document.querySelector("#my-address")`) {
		p.b.t.Errorf("%s: the key %s signed in; want it refused", p.name, name)
	}
}

// TestRecovery: a patient names three guardians, two of whom suffice; a
// recovery the patient did not ask for reaches the patient's open page
// live and is cancelled with the patient's own key, and another, by a
// delegate's, who sees it live too; then the patient, on a
// new browser profile, makes a new key whose request one guardian proposes
// and another approves; the new key cannot sign in until, after the delay,
// it completes the recovery itself, and then signs in as the patient.
func TestRecovery(t *testing.T) {
	chromiumPath(t)
	const chainID = "careledger-recovery"
	n := nodetest.Start(t, node.InitOptions{ChainID: chainID, Org: node.Org{ID: hospital, Name: "Mercy General Hospital", Type: identity.Provider},
		MinRecoveryDelay: 1})
	shots := screens(t)
	b := newBrowser(t, n.URL)
	dave := b.person("dave")
	daveAddr := dave.newPatient("dave")
	sister := b.person("sister")
	sisterAddr := sister.newPatient("sister")
	brother := b.person("brother")
	brotherAddr := brother.newPatient("brother")
	carer := b.person("carer")
	carerAddr := carer.newPatient("carer")
	// The third guardian (an advocacy organization's account) takes no part.
	advocate := ed25519.GenPrivKey()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n.Client.Send(ctx, advocate, contract.Encode(identity.RegisterPatient{})); err != nil {
		t.Fatal(err)
	}

	// Dave names them: any two, after a delay of two seconds here.
	dave.goTo("#/recovery")
	dave.click("#guardians summary")
	dave.fill("#guardian-addresses", strings.Join([]string{sisterAddr, brotherAddr, tx.AddressOf(advocate.PubKey().Bytes()).String()}, "\n"))
	dave.fill("#guardian-threshold", "2")
	dave.fill("#guardian-delay", "0.0005")
	dave.click("#guardians button[type=submit]")
	dave.waitFor("the guardians listed", `document.querySelector("#guardian-summary")?.innerText.includes("Any 2 of these 3")`)

	// A recovery Dave did not ask for, to a key he does not hold, reaches
	// his open page as it is proposed; he cancels it with his own key.
	impostor := ed25519.GenPrivKey()
	dAddr, _ := tx.ParseAddress(daveAddr)
	bogus, _ := json.Marshal(map[string]string{
		"patient": daveAddr, "new_pub_key": hex.EncodeToString(impostor.PubKey().Bytes()),
		"proof": hex.EncodeToString(sign(t, impostor, identity.RotationSignBytes(chainID, dAddr, impostor.PubKey().Bytes()))),
	})
	sister.goTo("#/recovery")
	sister.fill("#recovery-request", string(bogus))
	sister.click("#propose button[type=submit]")
	sister.text("#proposed")
	dave.waitFor("the proposal shown live", `document.querySelector("#recovery-list .cancel-recovery")`)
	if got := dave.text("#recovery-list"); !strings.Contains(got, "Your account is being recovered") || !strings.Contains(got, "1 of 2 approvals") {
		t.Errorf("Dave's pending recovery shows %q; want his account's recovery, 1 of 2 approvals", got)
	}
	dave.checkPage(shots, "recovery")
	dave.click("#recovery-list .cancel-recovery")
	dave.waitFor("the recovery cancelled", `!document.querySelector("#recovery-list .cancel-recovery")`)

	// Dave's carer, a delegate, sees the next such proposal as it comes,
	// and cancels it.
	dave.goTo("#/patient")
	dave.click("#delegates summary")
	dave.fill("#delegates input[name=address]", carerAddr)
	dave.click("#delegates button[type=submit]")
	dave.waitFor("the delegate listed", `document.querySelector("#delegate-table")?.innerText.includes(`+jsString(carerAddr)+`)`)
	carer.goTo("#/recovery")
	sister.goTo("#/recovery")
	sister.fill("#recovery-request", string(bogus))
	sister.click("#propose button[type=submit]")
	carer.waitFor("the proposal shown live", `document.querySelector("#recovery-list .cancel-recovery")`)
	if got := carer.text("#recovery-list"); !strings.Contains(got, "Recovery of patient "+daveAddr[:8]) {
		t.Errorf("the carer's pending recovery shows %q; want Dave's", got)
	}
	carer.click("#recovery-list .cancel-recovery")
	carer.waitFor("the recovery cancelled", `!document.querySelector("#recovery-list .cancel-recovery")`)

	// Dave loses his key. On a new browser profile he makes another, and
	// shows its request to his sister, who proposes it.
	fresh := newBrowser(t, n.URL).person("dave's new device")
	fresh.goTo("#/recovery")
	fresh.fill("#recover-patient", daveAddr)
	fresh.fill("#recover-name", "dave-new")
	fresh.fill("#recover-pass", "dave's new passphrase")
	fresh.click("#recover-form button[type=submit]")
	const mine = `#pending-keys li[data-key="dave-new"]`
	link := fresh.text(mine + " .recovery-link")
	if got := fresh.qrOf(mine); got != link {
		t.Errorf("the recovery request's QR code reads %q; want its link %s", got, link)
	}
	fresh.checkPage(shots, "recovery-new-device")
	fresh.signInFails("dave-new")

	sister.goTo(strings.TrimPrefix(link, n.URL+"/"))
	sister.click("#propose button[type=submit]")
	sister.waitFor("the proposal", `document.querySelector("#proposed")?.dataset.recovery`)
	recovery := eval[string](sister, "the recovery number", `document.querySelector("#proposed").dataset.recovery`)
	brother.goTo("#/recovery")
	brother.click("#recovery-" + recovery + " .approve-recovery")
	brother.waitFor("the approval counted", `document.querySelector("#recovery-`+recovery+`")?.innerText.includes("2 of 2 approvals")`)
	fresh.signInFails("dave-new")

	// After the delay the new key completes the recovery (it is not
	// registered: it sends at sequence 0) and signs in as Dave; a try
	// before the delay's block is refused and tried again.
	deadline := time.Now().Add(30 * time.Second)
	for {
		fresh.goTo("#/recovery")
		eval[bool](fresh, "clear the status", `(document.querySelector("#status").replaceChildren(), true)`)
		fresh.fill(mine+" .recovery-number", recovery)
		fresh.click(mine + " .complete-form button[type=submit]")
		fresh.waitFor("the completion answered", `document.querySelector("#my-address, #status p.error")`)
		if eval[bool](fresh, "signed in?", `!!document.querySelector("#my-address")`) {
			break
		}
		if time.Now().After(deadline) {
			fresh.fail("complete the recovery", errors.New("still refused after 30 s"))
		}
		time.Sleep(time.Second)
	}
	if got := fresh.text("#patient-address"); got != daveAddr {
		t.Errorf("the new key signed in as %q; want Dave's account %s", got, daveAddr)
	}
	dave.signInFails("dave")
}

func sign(t *testing.T, k ed25519.PrivKey, msg []byte) []byte {
	t.Helper()
	sig, err := k.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}
