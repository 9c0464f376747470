package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/websocket"

	v1 "github.com/careledger/careledger/api/v1"
)

// VerifyRequest names a product identifier to verify: its GTIN and serial,
// and the lot and expiry (YYMMDD, as GS1 AI 17) printed on the package, if
// the asker has them.
type VerifyRequest struct {
	GTIN, Serial, Lot, Expiry string
	// CorrUUID correlates the answer with the request (optional).
	CorrUUID string
}

// Verify asks the node whether a product identifier is genuine and may be
// distributed (DSCSA verification, GET /01/{gtin}/21/{serial}). Any
// answer, verified or not, is recorded on the chain as a receipt.
func (c *Client) Verify(ctx context.Context, token string, r VerifyRequest) (v1.Verification, error) {
	q := url.Values{}
	if r.Lot != "" {
		q.Set("10", r.Lot)
	}
	if r.Expiry != "" {
		q.Set("17", r.Expiry)
	}
	if r.CorrUUID != "" {
		q.Set("corrUUID", r.CorrUUID)
	}
	path := "/01/" + url.PathEscape(r.GTIN) + "/21/" + url.PathEscape(r.Serial)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var a v1.Verification
	return a, c.do(ctx, http.MethodGet, path, nil, &a, bearer(token))
}

// Journey returns an item's or logistic unit's state and the events that
// named it. epc is its Digital Link path: /01/{gtin}/21/{serial} or
// /00/{sscc}.
func (c *Client) Journey(ctx context.Context, token, epc string) (v1.Journey, error) {
	path := epc
	if u, err := url.Parse(epc); err == nil && u.Path != "" {
		path = u.EscapedPath() // a full Digital Link URI gives its path
	}
	var j v1.Journey
	return j, c.do(ctx, http.MethodGet, path+"?linkType=gs1:traceability", nil, &j, bearer(token))
}

// Lot reads a GTIN's lot (GET /01/{gtin}/10/{lot}): its recall, holders
// and the page of its units that pageToken names ("" for the first).
func (c *Client) Lot(ctx context.Context, token, gtin, lot string, perPage int, pageToken string) (v1.Lot, error) {
	q := url.Values{}
	if perPage > 0 {
		q.Set("perPage", strconv.Itoa(perPage))
	}
	if pageToken != "" {
		q.Set("nextPageToken", pageToken)
	}
	path := "/01/" + url.PathEscape(gtin) + "/10/" + url.PathEscape(lot)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var l v1.Lot
	return l, c.do(ctx, http.MethodGet, path, nil, &l, bearer(token))
}

// Subscribe subscribes the token's organization to a named query
// (SupplyShipmentsToMe, SupplyRecallsOfMyStock): the node posts each
// committed block's matching events to r.Dest.
func (c *Client) Subscribe(ctx context.Context, token, query string, r v1.SubscriptionRequest) (v1.Subscription, error) {
	var s v1.Subscription
	return s, c.do(ctx, http.MethodPost, "/epcis/queries/"+url.PathEscape(query)+"/subscriptions", r, &s, bearer(token))
}

// Subscriptions lists the token's organization's subscriptions to query at
// this node.
func (c *Client) Subscriptions(ctx context.Context, token, query string) ([]v1.Subscription, error) {
	var out []v1.Subscription
	return out, c.do(ctx, http.MethodGet, "/epcis/queries/"+url.PathEscape(query)+"/subscriptions", nil, &out, bearer(token))
}

// Unsubscribe ends a subscription of the token's organization.
func (c *Client) Unsubscribe(ctx context.Context, token, query, id string) error {
	return c.do(ctx, http.MethodDelete, "/epcis/queries/"+url.PathEscape(query)+"/subscriptions/"+url.PathEscape(id), nil, nil, bearer(token))
}

// StreamSubscription subscribes the token's organization to a named query
// by WebSocket, as the EPCIS 2.0 REST binding has it: each block committed
// from now on with matching events arrives as one EPCISQueryDocument
// (JSON-LD), sent on the channel as received. The subscription lives as
// long as the connection: the channel closes when ctx ends or the node
// closes the stream (as it stops), and a restart of the node ends it.
func (c *Client) StreamSubscription(ctx context.Context, token, query string) (<-chan json.RawMessage, error) {
	u := "ws" + strings.TrimPrefix(c.base, "http") + "/epcis/queries/" + url.PathEscape(query) + "/events?stream=true"
	conn, res, err := websocket.DefaultDialer.DialContext(ctx, u, bearer(token))
	if errors.Is(err, websocket.ErrBadHandshake) && res != nil {
		defer res.Body.Close()
		return nil, c.errorOf(res)
	}
	if err != nil {
		return nil, err
	}
	out := make(chan json.RawMessage, 16)
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		conn.Close()
	}()
	go func() {
		defer close(out)
		defer close(done)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			select {
			case out <- msg:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
