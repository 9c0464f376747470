package v1

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// maxAnswer bounds the answer Call reads from a peer.
const maxAnswer = 4 << 20

// Call sends a request with a JSON body (none if body is nil) to a node's
// JSON API at url, with a bearer token unless token is empty, and decodes
// a 2xx answer into out. An error answer becomes an error with its code and
// message. Nodes reach their peers with it; it fits Login's Caller once
// bound to a base URL.
func Call(ctx context.Context, method, url, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return err
	}
	var e struct {
		Error *Error `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != nil {
		return fmt.Errorf("%s %s: %s (code %d): %s", method, url, e.Error.Name, e.Error.Code, e.Error.Message)
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d", method, url, res.StatusCode)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, url, err)
	}
	return nil
}
