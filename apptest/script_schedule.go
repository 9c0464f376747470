package apptest

import (
	"crypto/sha256"
	"fmt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/tx"
)

// The script's schedule at OrgA: a deposit of 10.00, free cancellation
// until 20 seconds (four blocks) before the start, half kept on a late
// cancellation and all of it on a no-show.
var scriptSchedule = schedule.Publish{Provider: OrgA, Schedule: "gp", Category: "primary-care",
	Deposit: 1_000, CancelBefore: 20, LateCancelKeep: 5_000, NoShowKeep: 10_000}

// The script's reward program of OrgB: 10.00 for each of a patient's first
// two attended appointments, at most 25.00 a patient, funded with 30.00.
const (
	scriptProgram = "script-checkups"
	scriptReward  = 1_000
	scriptFunding = 3_000
	scriptCap     = 2_500
)

// scheduleModel is the script generator's picture of the scheduling and
// rewards state and of the ledger accounts of patients.
type scheduleModel struct {
	payerFunded bool // OrgB deposited enough to fund patients and a program
	published   bool
	opened      int // slots opened so far
	slots       []*slotModel
	balances    map[*modelAccount]uint64 // patients' ledger balances (looked up, never ranged over)

	program     bool // created
	programEnd  int64
	closed      bool
	pool        uint64
	received    map[*modelAccount]uint64 // what the program paid each patient
	rewarded    map[*modelAccount]int    // how many rewards it paid each
	attestation int
}

type slotModel struct {
	start   int64
	patient *modelAccount // nil while free
	marked  bool
}

func (m *scheduleModel) init() {
	if m.balances == nil {
		m.balances, m.received, m.rewarded = map[*modelAccount]uint64{}, map[*modelAccount]uint64{}, map[*modelAccount]int{}
	}
}

func (g *scriptGen) now() int64 { return BlockTime(g.height).Unix() }

func (g *scriptGen) slotWhere(ok func(*slotModel) bool) *slotModel {
	var c []*slotModel
	for _, s := range g.sched.slots {
		if ok(s) {
			c = append(c, s)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[g.rng.IntN(len(c))]
}

func slotRef(s *slotModel) schedule.SlotRef {
	return schedule.SlotRef{Provider: OrgA, Schedule: "gp", Start: s.start}
}

// ledgerFund has OrgB's admin send 30.00 to a patient's ledger account
// (ledger/send); the first time, it deposits far more than every claim of
// the script will take, so that the payer's balance never runs short.
func (g *scriptGen) ledgerFund() (ScriptTx, bool) {
	m := &g.sched
	m.init()
	admin, p := g.orgAdmin(OrgB), g.pick(patient)
	if admin == nil || p == nil {
		return ScriptTx{}, false
	}
	var msgs []tx.Msg
	if !m.payerFunded {
		m.payerFunded = true
		msgs = append(msgs, contract.Encode(claims.Deposit{Payer: OrgB, Amount: 100_000_000_000}))
	}
	msgs = append(msgs, contract.Encode(ledger.Send{From: OrgB, ToPatient: p.addr, Amount: 3_000}))
	m.balances[p] += 3_000
	return ScriptTx{g.next(admin, true, msgs...), tx.CodeOK, "fund a patient"}, true
}

// scheduleOpen publishes OrgA's schedule once, then opens two slots a
// call, 20 to 60 seconds ahead of the block.
func (g *scriptGen) scheduleOpen() (ScriptTx, bool) {
	m := &g.sched
	admin := g.orgAdmin(OrgA)
	if admin == nil {
		return ScriptTx{}, false
	}
	var msgs []tx.Msg
	if !m.published {
		m.published = true
		msgs = append(msgs, contract.Encode(scriptSchedule))
	}
	open := schedule.OpenSlots{Provider: OrgA, Schedule: "gp"}
	for range 2 {
		m.opened++
		s := &slotModel{start: g.now() + 20 + int64(m.opened)*3}
		m.slots = append(m.slots, s)
		open.Slots = append(open.Slots, schedule.SlotSpec{Start: s.start, Minutes: 15})
	}
	msgs = append(msgs, contract.Encode(open))
	return ScriptTx{g.next(admin, true, msgs...), tx.CodeOK, "publish and open slots"}, true
}

// scheduleBook has a patient book a future slot: a free one applies if the
// patient's balance covers the deposit (invalid if not), a taken one is
// already_exists.
func (g *scriptGen) scheduleBook() (ScriptTx, bool) {
	m := &g.sched
	m.init()
	p := g.pick(patient)
	s := g.slotWhere(func(s *slotModel) bool { return s.start > g.now() })
	if p == nil || s == nil {
		return ScriptTx{}, false
	}
	raw := g.next(p, true, contract.Encode(schedule.Book{Patient: p.addr, SlotRef: slotRef(s)}))
	switch {
	case s.patient != nil:
		return ScriptTx{raw, tx.CodeAlreadyExists, "book a taken slot"}, true
	case m.balances[p] < scriptSchedule.Deposit:
		return ScriptTx{raw, tx.CodeInvalid, "book without the deposit"}, true
	}
	s.patient = p
	m.balances[p] -= scriptSchedule.Deposit
	return ScriptTx{raw, tx.CodeOK, "book"}, true
}

// scheduleCancel has a patient cancel a future booking: refunded in full
// before the deadline, half after it.
func (g *scriptGen) scheduleCancel() (ScriptTx, bool) {
	m := &g.sched
	s := g.slotWhere(func(s *slotModel) bool { return s.patient != nil && !s.marked && s.start > g.now() })
	if s == nil {
		return ScriptTx{}, false
	}
	p := s.patient
	raw := g.next(p, true, contract.Encode(schedule.Cancel{SlotRef: slotRef(s)}))
	refund := scriptSchedule.Deposit
	if g.now() >= s.start-int64(scriptSchedule.CancelBefore) {
		refund -= scriptSchedule.Deposit * scriptSchedule.LateCancelKeep / 10_000
	}
	m.balances[p] += refund
	s.patient = nil
	return ScriptTx{raw, tx.CodeOK, "cancel"}, true
}

// scheduleReschedule moves a booking before its deadline to a free future
// slot, or is refused (invalid) after the deadline.
func (g *scriptGen) scheduleReschedule() (ScriptTx, bool) {
	from := g.slotWhere(func(s *slotModel) bool { return s.patient != nil && !s.marked && s.start > g.now() })
	to := g.slotWhere(func(s *slotModel) bool { return s.patient == nil && s.start > g.now() })
	if from == nil || to == nil {
		return ScriptTx{}, false
	}
	raw := g.next(from.patient, true, contract.Encode(schedule.Reschedule{SlotRef: slotRef(from), NewStart: to.start}))
	if g.now() >= from.start-int64(scriptSchedule.CancelBefore) {
		return ScriptTx{raw, tx.CodeInvalid, "reschedule after the deadline"}, true
	}
	to.patient, from.patient = from.patient, nil
	return ScriptTx{raw, tx.CodeOK, "reschedule"}, true
}

// scheduleMark has OrgA's admin mark a started booking attended (the
// deposit back to the patient, and the program's reward attested in the
// same transaction while the program runs) or a no-show (the deposit
// kept). One in six is signed by OrgB's admin instead: wrong_organization.
func (g *scriptGen) scheduleMark() (ScriptTx, bool) {
	m := &g.sched
	s := g.slotWhere(func(s *slotModel) bool { return s.patient != nil && !s.marked && s.start <= g.now() })
	admin := g.orgAdmin(OrgA)
	if s == nil || admin == nil {
		return ScriptTx{}, false
	}
	if g.rng.IntN(6) == 0 {
		if other := g.orgAdmin(OrgB); other != nil {
			raw := g.next(other, true, contract.Encode(schedule.Mark{SlotRef: slotRef(s), Outcome: schedule.Attended}))
			return ScriptTx{raw, tx.CodeWrongOrganization, "mark at another provider"}, true
		}
	}
	s.marked = true
	if g.rng.IntN(3) == 0 {
		return ScriptTx{g.next(admin, true, contract.Encode(schedule.Mark{SlotRef: slotRef(s), Outcome: schedule.NoShow})), tx.CodeOK, "no-show"}, true
	}
	p := s.patient
	m.balances[p] += scriptSchedule.Deposit
	msgs := []tx.Msg{contract.Encode(schedule.Mark{SlotRef: slotRef(s), Outcome: schedule.Attended})}
	if m.program && g.now() < m.programEnd {
		msgs = append(msgs, contract.Encode(g.attestation(p)))
		pay := uint64(0)
		if m.rewarded[p] < 2 { // the rule: count < 2
			pay = min(scriptReward, scriptCap-m.received[p], m.pool)
		}
		if pay > 0 {
			m.pool -= pay
			m.received[p] += pay
			m.rewarded[p]++
			m.balances[p] += pay
		}
	}
	return ScriptTx{g.next(admin, true, msgs...), tx.CodeOK, "attended"}, true
}

func (g *scriptGen) attestation(p *modelAccount) rewards.Attest {
	g.sched.attestation++
	return rewards.Attest{Program: scriptProgram, Patient: p.addr, Event: "attended",
		Ref: sha256.Sum256(fmt.Appendf(nil, "script attendance %d", g.sched.attestation))}
}

// rewardsCreate has OrgB create the program, running for 60 blocks less
// the height; once created, it tries a program whose rule does not
// compile (invalid, refused before the block's state).
func (g *scriptGen) rewardsCreate() (ScriptTx, bool) {
	m := &g.sched
	m.init()
	admin := g.orgAdmin(OrgB)
	if admin == nil || !m.payerFunded {
		return ScriptTx{}, false
	}
	c := rewards.Create{Sponsor: OrgB, Program: scriptProgram, Funding: scriptFunding, PatientCap: scriptCap,
		End: BlockTime(30).Unix(), Rules: []rewards.Rule{{Event: "attended", Amount: scriptReward, Attesters: []string{"provider"}, Expr: "count < 2"}}}
	if m.program {
		c.Program, c.Rules[0].Expr = "script-bad", "count <"
		return ScriptTx{g.next(admin, false, contract.Encode(c)), tx.CodeInvalid, "program with a bad rule"}, true
	}
	if g.now() >= c.End {
		return ScriptTx{}, false
	}
	m.program, m.programEnd, m.pool = true, c.End, scriptFunding
	return ScriptTx{g.next(admin, true, contract.Encode(c)), tx.CodeOK, "create program"}, true
}

// rewardsClose has OrgB close the program: invalid while it runs, applied
// once after its end; after that, an attestation to it is invalid.
func (g *scriptGen) rewardsClose() (ScriptTx, bool) {
	m := &g.sched
	admin := g.orgAdmin(OrgB)
	if !m.program || admin == nil {
		return ScriptTx{}, false
	}
	if m.closed {
		provider, p := g.orgAdmin(OrgA), g.pick(patient)
		if provider == nil || p == nil {
			return ScriptTx{}, false
		}
		return ScriptTx{g.next(provider, true, contract.Encode(g.attestation(p))), tx.CodeInvalid, "attest to an ended program"}, true
	}
	raw := g.next(admin, true, contract.Encode(rewards.Close{Program: scriptProgram}))
	if g.now() < m.programEnd {
		return ScriptTx{raw, tx.CodeInvalid, "close a running program"}, true
	}
	m.closed = true
	return ScriptTx{raw, tx.CodeOK, "close program"}, true
}

// rewardsRedeem has a patient redeem rewards of the script's program,
// which pays to balances and so has nothing to redeem: invalid, in the
// block.
func (g *scriptGen) rewardsRedeem() (ScriptTx, bool) {
	p := g.pick(patient)
	if !g.sched.program || p == nil {
		return ScriptTx{}, false
	}
	m := rewards.Redeem{Program: scriptProgram, Patient: p.addr, To: OrgB, Amount: 500}
	return ScriptTx{g.next(p, true, contract.Encode(m)), tx.CodeInvalid, "redeem from a program paying to balances"}, true
}
