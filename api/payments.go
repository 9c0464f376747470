package api

import (
	"net/http"

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
		if staff {
			continue
		}
		// A booking shows whose it is to its patient and their delegates
		// (who may book and cancel for them), as FHIR's Appointment does.
		mine := false
		if sl.Patient != (tx.Address{}) {
			if mine, err = identity.ActsFor(v, who.Address, sl.Patient); err != nil {
				writeError(w, err)
				return
			}
		}
		if !mine {
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

func (s *Server) orgSchedules(w http.ResponseWriter, r *http.Request) {
	v := s.b.App.State()
	provider := r.PathValue("id")
	if err := identity.ValidateOrgID(provider); err != nil {
		writeError(w, err)
		return
	}
	out := v1.ScheduleList{Schedules: []v1.ScheduleEntry{}}
	err := schedule.EachSchedule(v, provider, func(_, id string, sc *schedule.Schedule) (bool, error) {
		out.Schedules = append(out.Schedules, v1.ScheduleEntry{ID: id, Category: sc.Category, Virtual: sc.Virtual, Policy: sc.Policy})
		return true, nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listPrograms(w http.ResponseWriter, r *http.Request) {
	v := s.b.App.State()
	out := v1.ProgramList{Programs: []v1.ProgramEntry{}}
	err := rewards.EachProgram(v, func(id string, p *rewards.Program) (bool, error) {
		out.Programs = append(out.Programs, v1.ProgramEntry{ID: id, Program: *p})
		return true, nil
	})
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
