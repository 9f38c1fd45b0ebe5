package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/server"
)

// Mount the management API in a service: a token with the operator role
// asks an agent a question over HTTP.
func ExampleNew() {
	ctx := context.Background()
	rt, _ := caxton.New()
	defer rt.Close(ctx)
	_ = rt.Spawn(ctx, caxton.AgentSpec{Name: "billing", Handler: caxton.HandlerFunc(
		func(ctx context.Context, mc *caxton.MessageContext) error {
			return mc.Reply(ctx, acl.Inform, []byte("refund issued"))
		})})

	auth, _ := server.StaticTokens(server.Token{Token: "a-long-random-secret", Subject: "ops", Role: server.RoleOperator})
	api, _ := server.New(rt, server.WithAuthenticator(auth))
	mux := http.NewServeMux()
	mux.Handle("/", api)
	hs := httptest.NewServer(mux)
	defer hs.Close()

	req, _ := http.NewRequest("POST", hs.URL+"/v1/requests?timeout=5s",
		strings.NewReader(`{"performative":"request","receiver":"billing","content":"where is my refund?"}`))
	req.Header.Set("Authorization", "Bearer a-long-random-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.Contains(string(body), `"content":"refund issued"`))

	// Without a token: an RFC 9457 problem.
	resp2, err := http.Get(hs.URL + "/v1/agents")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp2.Body.Close()
	fmt.Println(resp2.StatusCode, resp2.Header.Get("Content-Type"))
	// Output:
	// 200 true
	// 401 application/problem+json
}
