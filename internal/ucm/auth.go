package ucm

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// APIVersion is sent with every challenge: the guide warns that without it the unit parses requests
// by its newest API version, which may differ from the one this client was written against.
const APIVersion = "1.0"

// Token is the login proof: lowercase hex MD5 of the challenge followed by the password.
func Token(challenge, password string) string {
	sum := md5.Sum([]byte(challenge + password))
	return hex.EncodeToString(sum[:])
}

// Login runs the challenge → MD5 → login handshake and returns the session cookie. A failure is an
// *Error (carrying remain_num/remain_time when the UCM sent them) or a transport error; the caller
// decides whether it is safe to try again. The password never leaves this function except hashed.
func (c *Client) Login(ctx context.Context, user, password string) (string, error) {
	raw, err := c.Call(ctx, "challenge", "", map[string]any{"user": user, "version": APIVersion})
	if err != nil {
		return "", err
	}
	var ch struct {
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(raw, &ch); err != nil || ch.Challenge == "" {
		return "", &NotJSONError{Action: "challenge", HTTPStatus: 200, ContentType: "reply without a challenge"}
	}
	raw, err = c.Call(ctx, "login", "", map[string]any{"user": user, "token": Token(ch.Challenge, password)})
	if err != nil {
		return "", err
	}
	var lg struct {
		Cookie string `json:"cookie"`
	}
	if err := json.Unmarshal(raw, &lg); err != nil || lg.Cookie == "" {
		return "", &NotJSONError{Action: "login", HTTPStatus: 200, ContentType: "reply without a cookie"}
	}
	return lg.Cookie, nil
}

// Logout ends the session. Errors are returned for logging only: a cookie the unit already dropped
// is as good as logged out.
func (c *Client) Logout(ctx context.Context, cookie string) error {
	if _, err := c.Call(ctx, "logout", cookie, nil); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}
