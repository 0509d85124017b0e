package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/eventwatch/eventwatch/internal/report"
)

// statusError is a non-200 answer from an eventwatch instance, with the
// start of its body.
type statusError struct {
	code int
	text string
}

func (e *statusError) Error() string { return e.text }

// errorText is the message of an error body: the "error" field of a JSON
// answer (the API's 404 for an unknown name), else the body's text.
func errorText(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return strings.TrimSpace(string(body))
}

// apiGet GETs target from the instance at base (named in errors), with the
// bearer token read from tokenFile when one is given and the Accept header
// when accept is not empty. It returns the response only when it is 200 OK;
// any other status is a *statusError, a bad token file a usageError. The
// caller closes the body.
func apiGet(ctx context.Context, base, target, tokenFile, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, usageError{fmt.Sprintf("build request: %v", err)}
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if tokenFile != "" {
		tok, err := report.ReadTokenFile(tokenFile)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, &statusError{code: resp.StatusCode, text: fmt.Sprintf("%s answered %s: %s", base, resp.Status, errorText(msg))}
	}
	return resp, nil
}
