package dscsa

import (
	"net/url"
	"testing"
)

func FuzzParseSubscription(f *testing.F) {
	f.Add([]byte(`{"dest":"https://partner.example/hook","signatureToken":"s","stream":true}`))
	f.Add([]byte(`{"dest":"file:///etc/passwd"}`))
	f.Add([]byte(`{"dest":"http://h","stream":false}`))
	f.Add([]byte(`{"dest":"http://h"} {}`))
	f.Add([]byte(`{"dest":"http://h","schedule":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := parseSubscription(body)
		if err != nil {
			return
		}
		u, perr := url.Parse(q.Dest)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || q.Stream != nil && !*q.Stream {
			t.Fatalf("parseSubscription(%q) accepted %+v", body, q)
		}
	})
}
