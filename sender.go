package twofa

import (
	"context"
	"fmt"
)

// Channel is how an out-of-band code reaches a phone.
type Channel uint8

// Channels.
const (
	ChannelSMS   Channel = iota + 1 // a text message
	ChannelVoice                    // an automated call that reads the code
)

// String returns "sms" or "voice".
func (c Channel) String() string {
	switch c {
	case ChannelSMS:
		return "sms"
	case ChannelVoice:
		return "voice"
	}
	return fmt.Sprintf("Channel(%d)", uint8(c))
}

// Message is one out-of-band code to deliver. It carries the code - that is
// its purpose - so a Sender must hand it to the provider and never log it.
type Message struct {
	To      string  // E.164, e.g. "+14155550142"
	Channel Channel // ChannelSMS or ChannelVoice
	Code    string  // the 6-digit code
	Issuer  string  // Config.Issuer, to name the service in the text
}

// String describes the message without its code.
func (m Message) String() string {
	return fmt.Sprintf("twofa.Message{%s to %s, code REDACTED}", m.Channel, maskNumber(m.To))
}

// GoString is String: a Message never prints its code.
func (m Message) GoString() string { return m.String() }

// Sender delivers out-of-band codes through the backend's SMS or voice
// provider. Send must be safe for concurrent use and return an error when
// the provider refused the message; it must not log the code.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// maskNumber hides all but the last two digits of an E.164 number.
func maskNumber(e164 string) string {
	if len(e164) < 4 {
		return "••••"
	}
	b := make([]byte, 0, 3*len(e164))
	for i := 0; i < len(e164)-2; i++ {
		if e164[i] == '+' {
			b = append(b, '+')
			continue
		}
		b = append(b, "•"...)
	}
	return string(append(b, e164[len(e164)-2:]...))
}
