package node

import (
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/audit/auditdb"
)

// openAudit opens the node's audit store, indexing by type the events the
// contracts ask for (contract.EventSpec.ByType): erasures, which
// replayErasures carries out again when the node starts, and
// break-the-glass accesses.
func openAudit(path string) (*auditdb.Store, error) {
	router, err := app.NewRouter()
	if err != nil {
		return nil, err
	}
	return auditdb.Open(path, auditdb.Options{IndexedTypes: router.IndexedEvents()})
}

// auditLog is the audit store as the app takes it: Go does not let
// Restore's *auditdb.Restorer stand for app.AuditRestorer.
type auditLog struct{ *auditdb.Store }

var (
	_ app.AuditLog      = auditLog{}
	_ app.AuditRestorer = (*auditdb.Restorer)(nil)
)

func (l auditLog) Restore() (app.AuditRestorer, error) {
	r, err := l.Store.Restore()
	if err != nil {
		return nil, err // not a nil *Restorer in a non-nil interface
	}
	return r, nil
}
