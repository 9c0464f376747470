package api

// Route is a route of the table, as the external tests see it.
type Route struct {
	Pattern string
	Access  string // the rule's name, such as "patient(address)"
	Open    bool
}

// Routes returns s's route table, so that the tests that run a real node
// (package api_test, since the node imports api) walk every route.
func (s *Server) Routes() []Route {
	var out []Route
	for _, rt := range s.routeTable() {
		out = append(out, Route{rt.pattern, rt.access.name, rt.access.open})
	}
	return out
}

// MemberAccess is the name of the rule of chain-wide views.
var MemberAccess = member.name
