package smart

// The paths of the login flow, under a node's base URL.
const (
	ChallengePath = "/v1/auth/challenge"
	TokenPath     = "/v1/auth/token"
)

// GrantType names the grant a token request is: a signed challenge, not
// an OAuth 2.0 grant (no authorization code, no client credentials).
const GrantType = "urn:careledger:grant-type:signed-challenge"

// AuthMethod names how a client proves itself at the token endpoint: an
// Ed25519 signature, with the key of a registered account, over the
// challenge (api/v1.AuthSignBytes). It is not SMART's
// client-confidential-asymmetric (a signed JWT), which is not claimed.
const AuthMethod = "urn:careledger:token-auth:ed25519-signed-challenge"

// Configuration is the SMART App Launch discovery document
// (.well-known/smart-configuration) of a CareLedger node. Fields named
// careledger_* are CareLedger's extensions.
type Configuration struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Capabilities                      []string `json:"capabilities"`
	// ChallengeEndpoint is where a client gets the challenge it signs.
	ChallengeEndpoint string `json:"careledger_challenge_endpoint"`
	// Flow says in words how a token is obtained and what scopes mean.
	Flow string `json:"careledger_token_flow"`
}

// flow is Configuration.Flow.
const flow = "Not OAuth 2.0 authorization-code: there is no authorization endpoint, redirect or client registration. " +
	"POST {\"pub_key\"} to careledger_challenge_endpoint, sign the challenge with the Ed25519 key of a registered account " +
	"(domain \"careledger/auth/v1\\n\", the chain ID and the challenge, as api/v1.AuthSignBytes), and POST " +
	"{\"pub_key\",\"challenge\",\"signature\",\"scope\"} to token_endpoint for a bearer token of 15 minutes. " +
	"scope is optional: SMART v2 resource scopes (patient/, user/, system/; a type or *; permissions of cruds in that order; " +
	"v1's read and write accepted), granted as asked and returned in the answer's scope. A token requested without scope is not limited " +
	"by scopes: its account may do what the consent contract and the route rules allow. " +
	"A scope limits a token before and in addition to the consent contract: patient/ scopes cover only the records of the patients " +
	"the token's account acts for (its own if a patient, and those of patients who named it delegate), and reads and searches only; " +
	"user/ scopes cover what the account may see; system/ scopes are granted only to organization members (service accounts included)."

// Discovery returns the configuration of a node whose API is at base (a
// URL without trailing slash, such as https://node.example).
func Discovery(base string) Configuration {
	return Configuration{
		TokenEndpoint:                     base + TokenPath,
		GrantTypesSupported:               []string{GrantType},
		TokenEndpointAuthMethodsSupported: []string{AuthMethod},
		ScopesSupported: []string{
			"patient/*.rs", "patient/*.read", "user/*.cruds", "user/*.rs", "user/*.read", "user/*.write",
			"system/*.cruds", "system/*.rs", "system/*.read", "system/*.write",
		},
		// Only what is served: v2 and v1 permission syntax, patient and
		// user (and system) scopes. No launch, no OpenID, no refresh.
		Capabilities:      []string{"permission-v2", "permission-v1", "permission-patient", "permission-user"},
		ChallengeEndpoint: base + ChallengePath,
		Flow:              flow,
	}
}
