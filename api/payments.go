package api

import (
	"net/http"
	"strings"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/tx"
)

func (s *Server) patientBalance(w http.ResponseWriter, r *http.Request) {
	addr, err := pathAddress(r)
	if err != nil {
		writeError(w, err)
		return
	}
	acct := ledger.Patient(addr)
	bal, err := ledger.Balance(s.b.App.State(), acct)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v1.BalanceAnswer{Account: acct, Balance: bal})
}

func (s *Server) scheduleSlots(w http.ResponseWriter, r *http.Request) {
	v := s.b.App.State()
	provider, id := r.PathValue("provider"), r.PathValue("schedule")
	sc, err := schedule.LoadSchedule(v, provider, id)
	if err == nil && sc == nil {
		err = tx.Rejectf(tx.CodeNotFound, "no such schedule")
	}
	if err != nil {
		writeError(w, err)
		return
	}
	slots, err := schedule.Slots(v, provider, id)
	if err != nil {
		writeError(w, err)
		return
	}
	who := caller(r)
	staff := who.Kind == identity.Member && who.Org == provider
	for _, sl := range slots {
		if !staff && sl.Patient != who.Address {
			sl.Patient, sl.Held, sl.Policy = tx.Address{}, 0, schedule.Policy{}
		}
	}
	writeJSON(w, http.StatusOK, v1.SlotList{Category: sc.Category, Virtual: sc.Virtual, Policy: sc.Policy, Slots: append([]*schedule.Slot{}, slots...)})
}

func (s *Server) getProgram(w http.ResponseWriter, r *http.Request) {
	p, err := rewards.LoadProgram(s.b.App.State(), r.PathValue("id"))
	if err == nil && p == nil {
		err = tx.Rejectf(tx.CodeNotFound, "no such program")
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// The state key prefixes of schedules and programs, as contract/schedule
// and contract/rewards document them ("A/s/PROVIDER/SCHEDULE",
// "P/p/PROGRAM"); each value is decoded by its contract's loader.
const (
	schedulePrefix = "A/s/"
	programPrefix  = "P/p/"
)

// idsUnder returns the last segments of the state keys under prefix, in
// key order: IDs hold no "/".
func idsUnder(v identity.Iterator, prefix string) ([]string, error) {
	var ids []string
	err := v.Iterate([]byte(prefix), func(k, _ []byte) bool {
		if id := string(k[len(prefix):]); id != "" && !strings.Contains(id, "/") {
			ids = append(ids, id)
		}
		return true
	})
	return ids, err
}

func (s *Server) orgSchedules(w http.ResponseWriter, r *http.Request) {
	v := s.b.App.State()
	provider := r.PathValue("id")
	if err := identity.ValidateOrgID(provider); err != nil {
		writeError(w, err)
		return
	}
	ids, err := idsUnder(v, schedulePrefix+provider+"/")
	out := v1.ScheduleList{Schedules: []v1.ScheduleEntry{}}
	for _, id := range ids {
		if err != nil {
			break
		}
		var sc *schedule.Schedule
		if sc, err = schedule.LoadSchedule(v, provider, id); sc != nil {
			out.Schedules = append(out.Schedules, v1.ScheduleEntry{ID: id, Category: sc.Category, Virtual: sc.Virtual, Policy: sc.Policy})
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listPrograms(w http.ResponseWriter, r *http.Request) {
	v := s.b.App.State()
	ids, err := idsUnder(v, programPrefix)
	out := v1.ProgramList{Programs: []v1.ProgramEntry{}}
	for _, id := range ids {
		if err != nil {
			break
		}
		var p *rewards.Program
		if p, err = rewards.LoadProgram(v, id); p != nil {
			out.Programs = append(out.Programs, v1.ProgramEntry{ID: id, Program: *p})
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// programPatient answers what a program rewarded a patient, and what of it
// it holds for them to redeem.
func (s *Server) programPatient(w http.ResponseWriter, r *http.Request) {
	addr, err := pathAddress(r)
	if err != nil {
		writeError(w, err)
		return
	}
	v := s.b.App.State()
	p, err := rewards.LoadProgram(v, r.PathValue("id"))
	if err == nil && p == nil {
		err = tx.Rejectf(tx.CodeNotFound, "no such program")
	}
	var got rewards.Received
	if err == nil {
		got, err = rewards.LoadReceived(v, r.PathValue("id"), addr)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}
