// Package prompt is ccx's small interface over interactive questions, so
// commands can be tested with a scripted Fake and run with survey on a TTY.
// Callers must check IOStreams.CanPrompt first: nothing here decides whether
// prompting is allowed.
package prompt

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// Validator rejects an answer with a message the user sees before retyping.
type Validator func(string) error

// Prompter asks questions. validate may be nil.
type Prompter interface {
	Input(message, defaultValue string, validate Validator) (string, error)
	Password(message string, validate Validator) (string, error)
	Select(message string, options []string, defaultValue string) (string, error)
	Confirm(message string, defaultValue bool) (bool, error)
}

// ErrInterrupted is returned when the user presses Ctrl-C at a prompt.
var ErrInterrupted = errors.New("interrupted")

// Survey asks on the terminal: reads stdin, draws on stderr so stdout stays data.
type Survey struct {
	opts []survey.AskOpt
}

// NewSurvey returns a Prompter on os.Stdin and os.Stderr.
func NewSurvey() *Survey {
	return &Survey{opts: []survey.AskOpt{survey.WithStdio(os.Stdin, os.Stderr, os.Stderr)}}
}

func (s *Survey) ask(p survey.Prompt, resp any, validate Validator) error {
	opts := s.opts
	if validate != nil {
		opts = append(append([]survey.AskOpt(nil), opts...), survey.WithValidator(func(ans any) error {
			str, _ := ans.(string)
			return validate(str)
		}))
	}
	err := survey.AskOne(p, resp, opts...)
	if errors.Is(err, terminal.InterruptErr) {
		return ErrInterrupted
	}
	return err
}

func (s *Survey) Input(message, def string, validate Validator) (string, error) {
	var out string
	err := s.ask(&survey.Input{Message: message, Default: def}, &out, validate)
	return strings.TrimSpace(out), err
}

func (s *Survey) Password(message string, validate Validator) (string, error) {
	var out string
	err := s.ask(&survey.Password{Message: message}, &out, validate)
	return strings.TrimSpace(out), err
}

func (s *Survey) Select(message string, options []string, def string) (string, error) {
	var out string
	p := &survey.Select{Message: message, Options: options}
	if def != "" {
		p.Default = def
	}
	err := s.ask(p, &out, nil)
	return out, err
}

func (s *Survey) Confirm(message string, def bool) (bool, error) {
	var out bool
	err := s.ask(&survey.Confirm{Message: message, Default: def}, &out, nil)
	return out, err
}

// Fake answers from a script, like a user typing: each prompt whose message
// contains a key takes that key's next answer; an answer the validator
// rejects is recorded in Rejected and the next one is tried, as a person
// would retype. An empty answer to Input takes the default.
type Fake struct {
	Answers  map[string][]string
	Asked    []string // every message asked, in order
	Rejected []string // "message: answer: error" for each rejected answer
}

func (f *Fake) next(message string) (string, error) {
	f.Asked = append(f.Asked, message)
	for key, list := range f.Answers {
		if strings.Contains(message, key) && len(list) > 0 {
			f.Answers[key] = list[1:]
			return list[0], nil
		}
	}
	return "", fmt.Errorf("fake prompter: no answer for %q", message)
}

func (f *Fake) answer(message, def string, validate Validator) (string, error) {
	for {
		a, err := f.next(message)
		if err != nil {
			return "", err
		}
		if a == "" {
			a = def
		}
		if validate != nil {
			if verr := validate(a); verr != nil {
				f.Rejected = append(f.Rejected, fmt.Sprintf("%s: %s: %v", message, a, verr))
				continue
			}
		}
		return a, nil
	}
}

func (f *Fake) Input(message, def string, validate Validator) (string, error) {
	return f.answer(message, def, validate)
}

func (f *Fake) Password(message string, validate Validator) (string, error) {
	return f.answer(message, "", validate)
}

func (f *Fake) Select(message string, options []string, def string) (string, error) {
	return f.answer(message, def, func(s string) error {
		for _, o := range options {
			if o == s {
				return nil
			}
		}
		return fmt.Errorf("not one of %v", options)
	})
}

func (f *Fake) Confirm(message string, def bool) (bool, error) {
	a, err := f.next(message)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(a) {
	case "":
		return def, nil
	case "y", "yes", "true":
		return true, nil
	}
	return false, nil
}
