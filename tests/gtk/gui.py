#!/usr/bin/python3
# gui.py — the desktop app end to end, driven as a person would: buttons
# and menus through AT-SPI (pyatspi), typing through xdotool, against real
# `sotto-cli run` peers over TCP on loopback, a real Secret Service
# (gnome-keyring-daemon) and a real notification server on D-Bus
# (python3-dbusmock's notification_daemon template). Saves screenshots.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: gui.py SOTTO SCREENSHOT_DIR [TEST...]
# Needs an X display (build-aux/sotto-dev test runs Xvfb). Runs itself in
# a private D-Bus session, so that its keyring, notification server and
# accessibility bus are its own. Prints TAP.

import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback

# The TAP stream gets a descriptor of its own, kept across the exec below;
# whatever else writes to standard output (the private bus's daemons, the
# accessibility registry's greeting) goes to standard error instead, and
# can't break it.
if 'SOTTO_GUI_TAP_FD' not in os.environ:
    tap_fd = os.dup(1)
    os.set_inheritable(tap_fd, True)
    os.environ['SOTTO_GUI_TAP_FD'] = str(tap_fd)
    os.dup2(2, 1)
TAP = os.fdopen(int(os.environ['SOTTO_GUI_TAP_FD']), 'w', buffering=1)


def tap(line):
    print(line, file=TAP, flush=True)


if 'SOTTO_GUI_PRIVATE_BUS' not in os.environ:
    os.environ['SOTTO_GUI_PRIVATE_BUS'] = '1'
    # Fatal warnings are for the apps under test, not for this script: the
    # AT-SPI library warns when it asks an app that has just quit, and a
    # fatal warning would end the whole run there.
    if 'G_DEBUG' in os.environ:
        os.environ['SOTTO_APP_G_DEBUG'] = os.environ.pop('G_DEBUG')
    os.execvp('dbus-run-session', ['dbus-run-session', '--', sys.executable, *sys.argv])

import gi                                      # noqa: E402
gi.require_version('Atspi', '2.0')
import pyatspi                                 # noqa: E402
from gi.repository import GLib                 # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cli'))
import peers                                   # noqa: E402
from peers import Failure, Peer, free_port     # noqa: E402

SOTTO = sys.argv[1]
SHOTS = sys.argv[2]
TIMEOUT = float(os.environ.get('SOTTO_GUI_TIMEOUT', '30'))
# A popover is an X window of its own, which GTK names after the app.
MENU_WINDOW = 'Sotto'


def wait_for(what, check, timeout=TIMEOUT, interval=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception as e:            # the tree changes under our feet
            last = e
            result = None
        if result:
            return result
        time.sleep(interval)
    raise Failure(f'timed out waiting for {what}' + (f' (last error: {last})' if last else ''))


def no_blink(config_home):
    """No blinking cursor: the tests move the X focus between windows
    behind GTK's back (xdotool), and a text cursor still blinking in a
    window that lost the focus that way makes GTK 4.8 warn."""
    directory = os.path.join(config_home, 'gtk-4.0')
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, 'settings.ini'), 'w') as f:
        f.write('[Settings]\ngtk-cursor-blink=false\n')


def parent_pid(pid):
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('PPid:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Desktop:
    """The session's shared parts: keyring, notification server, settings."""

    def __init__(self):
        self.world = peers.World()
        self.env = self.world.env
        if 'SOTTO_APP_G_DEBUG' in self.env:
            self.env['G_DEBUG'] = self.env.pop('SOTTO_APP_G_DEBUG')
        # The point is the accessibility bus: whatever turned it off goes.
        for name in ('NO_AT_BRIDGE', 'GTK_A11Y'):
            self.env.pop(name, None)
        no_blink(self.env['XDG_CONFIG_HOME'])
        self.procs = []
        self.start_keyring()
        self.notify_log = os.path.join(self.world.root, 'notifications.log')
        self.start_notification_server()

    def start_keyring(self):
        proc = subprocess.Popen(['gnome-keyring-daemon', '--foreground', '--unlock',
                                 '--components=secrets'],
                                env=self.env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        proc.stdin.write(b'sotto-gui-test')
        proc.stdin.close()
        self.procs.append(proc)
        wait_for('the Secret Service on the bus', lambda: self.bus_has('org.freedesktop.secrets'))

    def start_notification_server(self):
        proc = subprocess.Popen(['/usr/bin/python3', '-m', 'dbusmock', '--session',
                                 '--template', 'notification_daemon', '-l', self.notify_log],
                                env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        wait_for('the notification server on the bus',
                 lambda: self.bus_has('org.freedesktop.Notifications'))

    def bus_has(self, name):
        result = subprocess.run(['dbus-send', '--session', '--print-reply', '--dest=org.freedesktop.DBus',
                                 '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner',
                                 f'string:{name}'], env=self.env, capture_output=True, text=True)
        return 'boolean true' in result.stdout

    def notifications(self):
        """The Notify calls the server received: (summary, body) pairs, oldest first."""
        if not os.path.exists(self.notify_log):
            return []
        calls = []
        with open(self.notify_log, encoding='utf-8', errors='replace') as f:
            for line in f:
                # dbusmock logs: TIME Notify "app" REPLACES "icon" "summary" "body" [...] {...} TIMEOUT
                m = re.match(r'^\S+ Notify "(.*?)" (\d+) "(.*?)" "(.*?)" "(.*?)" ', line)
                if m:
                    calls.append((m.group(4), m.group(5)))
        return calls

    def gsettings(self, *args):
        self.world.gsettings(*args)

    def cleanup(self):
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.world.cleanup()


class App:
    """A running `sotto`, found on the accessibility bus by its process id."""

    running = []

    def __init__(self, desktop, profile, *args, env=None):
        self.desktop = desktop
        self.profile = profile
        self.env = env if env is not None else desktop.env
        self.log = os.path.join(desktop.world.root, f'{profile}.log')
        self.logfile = open(self.log, 'w')
        self.proc = subprocess.Popen([SOTTO, '--profile', profile, *args], env=self.env,
                                     stdout=self.logfile, stderr=subprocess.STDOUT)
        App.running.append(self)
        try:
            self.app = wait_for(f'{profile} on the accessibility bus', self.find_app)
        except Failure as e:
            self.proc.kill()
            self.proc.wait()
            raise Failure(f'{e}; exit status {self.proc.returncode}; it printed:\n{self.output()}')

    def find_app(self):
        desktop = pyatspi.Registry.getDesktop(0)
        for app in desktop:
            if app is None:
                continue
            pid = app.get_process_id()
            # The app, or (SOTTO being a wrapper such as gdb) its child.
            if pid == self.proc.pid or parent_pid(pid) == self.proc.pid:
                self.pid = pid
                return app
        return None

    def output(self):
        with open(self.log, encoding='utf-8', errors='replace') as f:
            return f.read()

    def window(self, title, timeout=TIMEOUT):
        def find():
            for w in self.app:
                if w is None or w.name != title:
                    continue
                state = w.getState()
                # GTK 4.8 calls a dialog (an About window, say) visible,
                # never showing.
                if state.contains(pyatspi.STATE_SHOWING) or (
                        w.getRoleName() in ('dialog', 'filler') and
                        state.contains(pyatspi.STATE_VISIBLE)):
                    return w
            return None
        return wait_for(f'the window “{title}”', find, timeout)

    def windows(self):
        return [w.name for w in self.app if w is not None]

    @staticmethod
    def named(node, name):
        # GTK 4.8 puts a mnemonic label's own text before the accessible
        # label ("_Next Next", "Your name Your name"): the name is what
        # the accessible name ends with, as a whole word.
        return re.search(r'(^|\s)' + re.escape(name) + r'$', node.name or '') is not None

    def find(self, root, role, name=None, timeout=TIMEOUT, match=None):
        """A widget by role and name (GTK 4.8 reports no "showing" state,
        so hidden pages are searched too: names must be unique enough)."""
        def pred(node):
            if node is None or node.getRoleName() != role:
                return False
            if name is not None and not self.named(node, name):
                return False
            return match is None or re.search(match, node.name or '') is not None
        return wait_for(f'{role} “{name or match}”',
                        lambda: pyatspi.findDescendant(root, pred, True), timeout)

    def find_all(self, root, role, match=None):
        def pred(node):
            return (node is not None and node.getRoleName() == role and
                    (match is None or re.search(match, node.name or '') is not None))
        return pyatspi.findAllDescendants(root, pred)

    def click(self, node):
        action = node.queryAction()
        for i in range(action.nActions):
            if action.getName(i) in ('click', 'activate', 'press', 'toggle'):
                try:
                    action.doAction(i)
                except GLib.GError as e:
                    # A menu item's action closes its popover, and GTK 4.8
                    # drops the item's accessible object with it, sometimes
                    # before the reply is sent (often under ASan, which is
                    # slower): the item was activated all the same, and what
                    # it opens is what the test waits for next.
                    if node.getRoleName() != 'menu item' or 'Did not receive a reply' not in str(e):
                        raise
                return
        # GTK 4.8's GtkMenuButton: the name is on it, the action on the
        # button inside.
        if node.childCount == 1 and node[0] is not None and node[0].getRoleName() in (
                'push button', 'toggle button'):
            return self.click(node[0])
        raise Failure(f'{node.getRoleName()} “{node.name}” has no click action')

    def x_windows(self):
        # Untitled ones too: a GtkMessageDialog has no title.
        result = subprocess.run(['xdotool', 'search', '--onlyvisible', '--pid', str(self.pid)],
                                capture_output=True, text=True)
        return result.stdout.split()

    def x_titles(self):
        return [subprocess.run(['xdotool', 'getwindowname', w], capture_output=True,
                               text=True).stdout.strip() for w in self.x_windows()]

    def x_window(self, title):
        def find():
            for w in self.x_windows():
                name = subprocess.run(['xdotool', 'getwindowname', w], capture_output=True,
                                      text=True).stdout.strip()
                if name == title:
                    return w
            return None
        return wait_for(f'the X window “{title}”', find)

    def type_into(self, window_title, node, text, enter=False):
        """Type like a person into a widget that has the keyboard focus.

        GTK 4.8's AT-SPI can neither move the focus nor tell where a widget
        is on screen, so the app must have put the focus there itself (as
        it does for people: the first field of a dialog, the composer of a
        chat just opened, the entry a mnemonic or shortcut leads to)."""
        xid = self.x_window(window_title)
        subprocess.run(['xdotool', 'windowfocus', '--sync', xid], check=True)
        wait_for(f'the keyboard focus in {node.getRoleName()} “{node.name}”',
                 lambda: node.getState().contains(pyatspi.STATE_FOCUSED), 5)
        subprocess.run(['xdotool', 'type', '--delay', '8', '--clearmodifiers', text], check=True)
        if enter:
            subprocess.run(['xdotool', 'key', '--clearmodifiers', 'Return'], check=True)

    def key(self, window_title, *keys):
        xid = self.x_window(window_title)
        subprocess.run(['xdotool', 'windowfocus', '--sync', xid], check=True)
        subprocess.run(['xdotool', 'key', '--clearmodifiers', *keys], check=True)

    def dialog(self, text, timeout=TIMEOUT):
        """A GtkMessageDialog, by its primary text: it has no title, so its
        name is empty, on the accessibility bus as in X (and GTK 4.8 calls
        it visible, never showing)."""
        def shows_text(node):
            return node is not None and node.getRoleName() == 'label' and node.name == text

        def find():
            for w in self.app:
                if (w is not None and w.getRoleName() == 'dialog' and
                        w.getState().contains(pyatspi.STATE_VISIBLE) and
                        pyatspi.findDescendant(w, shows_text, True)):
                    return w
            return None
        return wait_for(f'the dialog “{text}”', find, timeout)

    def dialogs(self):
        return [w for w in self.app if w is not None and w.getRoleName() == 'dialog']

    def x_geometry(self, xid):
        shell = subprocess.run(['xdotool', 'getwindowgeometry', '--shell', xid],
                               capture_output=True, text=True, check=True).stdout
        g = dict(line.split('=', 1) for line in shell.split())
        return int(g['X']), int(g['Y']), int(g['WIDTH']), int(g['HEIGHT'])

    # The roles of what a person operates: each needs a name a screen
    # reader can say.
    CONTROL_ROLES = {'push button', 'toggle button', 'check box', 'radio button', 'text',
                     'entry', 'password text', 'combo box', 'spin button', 'slider', 'switch',
                     'menu item', 'check menu item', 'radio menu item', 'page tab', 'link'}

    # What GTK 4.8 says when nobody named a control: its type, or for a
    # notebook tab, "Tab".
    FALLBACK_NAME = re.compile(r'^(\s*|Gtk[A-Z]\w*|Tab)$')

    def unnamed_controls(self, root):
        """@root, a window, if it has no real accessible name, and every
        control under it without one, as role and path, hidden pages
        included (GTK 4.8 reports no "showing")."""
        found = []
        if self.FALLBACK_NAME.match(root.name or ''):
            found.append(f'{root.getRoleName()} “{root.name}”')

        def walk(node, path):
            if node is None:
                return
            role = node.getRoleName()
            here = f'{path} > {role}'
            if role in self.CONTROL_ROLES and self.FALLBACK_NAME.match(node.name or ''):
                found.append(f'{here} “{node.name}”')
            for child in node:
                walk(child, here)
        walk(root, root.name)
        return found

    def screenshot(self, window_title, name, popup=None):
        """With a popup (a menu: an X window of its own, which may reach
        past the window's edge), the window raised and the two taken from
        the screen. Each window shot is also checked for unnamed
        controls."""
        unnamed = self.unnamed_controls(self.window(window_title))
        if unnamed:
            raise Failure(f'controls without an accessible name in “{window_title}”:\n  ' +
                          '\n  '.join(unnamed))
        xid = self.x_window(window_title)
        crop = []
        if popup is not None:
            subprocess.run(['xdotool', 'windowraise', xid], check=True)
            boxes = [self.x_geometry(w) for w in (xid, self.x_window(popup))]
            left = min(x for x, y, w, h in boxes)
            top = min(y for x, y, w, h in boxes)
            right = max(x + w for x, y, w, h in boxes)
            bottom = max(y + h for x, y, w, h in boxes)
            crop = ['-crop', f'{right - left}x{bottom - top}+{left}+{top}', '+repage']
            xid = 'root'
        time.sleep(0.5)  # let the last frame land
        os.makedirs(SHOTS, exist_ok=True)
        path = os.path.join(SHOTS, name)
        subprocess.run(['import', '-window', xid, *crop, path], check=True)
        colours = int(subprocess.run(['convert', path, '-format', '%k', 'info:'],
                                     capture_output=True, text=True).stdout or 0)
        if colours < 16:
            raise Failure(f'{path}: {colours} colours, nothing was drawn')
        return path

    def text_of(self, node):
        try:
            text = node.queryText()
            return text.getText(0, text.characterCount)
        except NotImplementedError:
            return node.name

    def quit(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure(f'{self.profile}: did not quit on SIGTERM')
        self.logfile.close()
        out = self.output()
        if re.search(r'CRITICAL|WARNING|Gtk-.*ERROR', out):
            raise Failure(f'{self.profile} logged warnings:\n{out}')


def first_run(desktop, profile, name, port, env=None):
    """The assistant, as a new user goes through it. Returns the app."""
    env = env if env is not None else desktop.env
    subprocess.run(['gsettings', 'set', 'im.sotto.Sotto', 'listen-port', str(port)], env=env,
                   check=True)
    app = App(desktop, profile, env=env)
    setup = app.window('Welcome to Sotto')
    entry = app.find(setup, 'text', 'Your name')
    app.type_into('Welcome to Sotto', entry, name)
    app.click(app.find(setup, 'push button', 'Next'))
    # The second page is up when "Back" can be used.
    back = app.find(setup, 'push button', 'Back')
    wait_for('the second page', lambda: back.getState().contains(pyatspi.STATE_SENSITIVE))
    app.click(app.find(setup, 'push button', 'Create Profile'))
    # GTK 4.8 does not say which page shows; the invite appears once the
    # profile exists.
    # Its name is "Your invite" until the invite is in it.
    label = app.find(setup, 'label', match=r'(^sotto:|(^|\s)Your invite$)')
    wait_for('the invite', lambda: app.text_of(label).startswith('sotto:'), 60)
    app.invite = app.text_of(label)
    return app


def contact_menu(app, row):
    """Opens a contact row's menu with its button; returns the menu once it
    is on screen (GTK 4.8 does not say what shows: its X window does)."""
    app.click(app.find(row, 'push button', 'Contact Menu'))
    app.x_window(MENU_WINDOW)
    return app.find(row, 'menu')


# -------------------------------------------------------------------------
# Tests
# -------------------------------------------------------------------------

def test_first_run_and_chat(desktop):
    """A new user sets up, adds a colleague from an invite, and they talk."""
    port = free_port()
    alice = first_run(desktop, 'alice', 'Alice Example', port)
    app = alice
    setup = app.window('Welcome to Sotto')
    if 'n=Alice%20Example' not in app.invite:
        raise Failure(f'the invite does not carry the name: {app.invite}')
    app.screenshot('Welcome to Sotto', 'first-run.png')
    app.click(app.find(setup, 'push button', 'Start Using Sotto'))
    main = app.window('Contacts — alice')
    app.find(main, 'label', 'No Contacts Yet')
    app.screenshot('Contacts — alice', 'contacts-empty.png')

    # A colleague on the command line adds Alice, reached on loopback; the
    # invite comes from the running app through its control socket.
    bob = Peer(desktop.world, 'Bob').init()
    alice_invite = subprocess.run([peers.CLI, '--profile', 'alice', 'invite', '--address',
                                   f'127.0.0.1:{port}'], env=desktop.env, capture_output=True,
                                  text=True, check=True).stdout.strip()
    bob.cli('add', alice_invite)
    bob.start()

    # Alice adds Bob through the Add Contact dialog.
    app.click(app.find(main, 'push button', 'Add Contact'))
    dialog = app.window('Add Contact')
    app.type_into('Add Contact', app.find(dialog, 'text', 'Invite'), bob.invite)
    app.find(dialog, 'label', 'Calls themselves “Bob”')
    app.click(app.find(dialog, 'push button', 'Add'))
    wait_for('the dialog to close', lambda: 'Add Contact' not in app.windows())

    bob.expect('connected', contact='Alice Example')
    bob.say('send Alice hello from the command line')
    app.find(main, 'panel', match=r'^Bob, Available, 1 unread message$')
    app.screenshot('Contacts — alice', 'contacts.png')

    # Ctrl+F, the name, Enter: the chat opens with the message in it.
    app.key('Contacts — alice', 'ctrl+f')
    app.type_into('Contacts — alice', app.find(main, 'entry', 'Find a contact'), 'bob', enter=True)
    chat = app.window('Bob')
    app.find(chat, 'label', 'hello from the command line')
    composer = app.find(chat, 'text', 'Message')
    app.type_into('Bob', composer, 'hello from the desktop', enter=True)
    bob.expect('message', body='hello from the desktop')
    app.find(chat, 'label', match=r' · Delivered$')
    app.screenshot('Bob', 'chat.png')

    # The contact's menu: it opens and closes, renames Bob, blocks him
    # (he is cut off) and unblocks him (he is back).
    row = app.find(main, 'panel', match=r'^Bob, Available$')
    items = [item.name for item in app.find_all(contact_menu(app, row), 'menu item')]
    if items != ['Open Chat', 'Verify Security Key…', 'Rename…', 'Block', 'Remove…']:
        raise Failure(f'the contact menu: {items}')
    app.screenshot('Contacts — alice', 'contact-menu.png', popup=MENU_WINDOW)
    app.key('Contacts — alice', 'Escape')
    wait_for('the menu to close', lambda: MENU_WINDOW not in app.x_titles())

    app.click(app.find(contact_menu(app, row), 'menu item', 'Rename…'))
    dialog = app.dialog('Rename Bob')
    entry = app.find(dialog, 'text', 'New name')
    # It comes with the old name selected: typing replaces it.
    app.type_into(dialog.name, entry, 'Bob Builder')
    wait_for('the new name typed', lambda: app.text_of(entry) == 'Bob Builder', 5)
    app.click(app.find(dialog, 'push button', 'Rename'))
    wait_for('the dialog to close', lambda: not app.dialogs())
    row = app.find(main, 'panel', match=r'^Bob Builder, Available$')
    if not re.search(r'^Bob Builder\t', alice_cli(desktop, 'contacts'), re.M):
        raise Failure(f'the store lacks the new name: {alice_cli(desktop, "contacts")}')
    # The open chat follows: its tab, and the tab's close button, are read
    # out with the new name.
    app.find(chat, 'page tab', 'Bob Builder')
    app.find(chat, 'push button', 'Close the chat with Bob Builder')

    def bob_detail():
        return app.find_all(main, 'panel', match=r'^Bob Builder, ')[0].description

    app.click(app.find(contact_menu(app, row), 'menu item', 'Block'))
    wait_for('Bob shown blocked', lambda: bob_detail() == 'Blocked')
    bob.expect('disconnected', contact='Alice Example')
    if not re.search(r'^Bob Builder\t.*\tblocked$', alice_cli(desktop, 'contacts'), re.M):
        raise Failure(f'Bob is not blocked in the store: {alice_cli(desktop, "contacts")}')

    row = app.find(main, 'panel', match=r'^Bob Builder, ')
    app.click(app.find(contact_menu(app, row), 'menu item', 'Unblock'))
    wait_for('Bob shown unblocked', lambda: bob_detail() != 'Blocked')
    if re.search(r'\tblocked$', alice_cli(desktop, 'contacts'), re.M):
        raise Failure(f'Bob is still blocked in the store: {alice_cli(desktop, "contacts")}')
    bob.expect('connected', contact='Alice Example')
    bob.say('send Alice back again')
    app.find(chat, 'label', 'back again')
    return alice, bob


def profile_cli(desktop, profile, *args, env=None):
    """sotto-cli for a profile an app holds: handed over to the app."""
    result = subprocess.run([peers.CLI, '--profile', profile, *args],
                            env=env if env is not None else desktop.env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise Failure(f'sotto-cli --profile {profile} {" ".join(args)}: {result.stderr}')
    return result.stdout


def alice_cli(desktop, *args):
    return profile_cli(desktop, 'alice', *args)


def started(desktop, profile, name, own_settings=False, env=None):
    """Someone after the assistant, at their contact list, with an invite
    that reaches them on loopback (made by sotto-cli, handed to the app).
    With own_settings, as on another person's desktop: settings of their
    own (another listening port, say)."""
    port = free_port()
    if own_settings:
        env = dict(desktop.env)
        env['XDG_CONFIG_HOME'] = os.path.join(desktop.world.root, f'config-{profile}')
        os.makedirs(env['XDG_CONFIG_HOME'], exist_ok=True)
        no_blink(env['XDG_CONFIG_HOME'])
    app = first_run(desktop, profile, name, port, env)
    app.click(app.find(app.window('Welcome to Sotto'), 'push button', 'Start Using Sotto'))
    app.title = f'Contacts — {profile}'
    app.main = app.window(app.title)
    app.port = port
    app.invite = profile_cli(desktop, profile, 'invite', '--address', f'127.0.0.1:{port}',
                             env=app.env).strip()
    return app


def started_alice(desktop):
    return started(desktop, 'alice', 'Alice Example')


def test_two_desktops(desktop):
    """Two people, each with the app, add each other and talk."""
    alice = started(desktop, 'alice', 'Alice Example')
    dave = started(desktop, 'dave', 'Dave Dupont', own_settings=True)
    profile_cli(desktop, 'alice', 'add', dave.invite)
    profile_cli(desktop, 'dave', 'add', alice.invite, env=dave.env)
    alice.find(alice.main, 'panel', match=r'^Dave Dupont, Available')
    dave.find(dave.main, 'panel', match=r'^Alice Example, Available')

    for app, other, text in ((alice, 'Dave Dupont', 'Hello Dave, from one window to another'),
                             (dave, 'Alice Example', 'Hello Alice, got it')):
        app.key(app.title, 'ctrl+f')
        app.type_into(app.title, app.find(app.main, 'entry', 'Find a contact'), other.split()[0],
                      enter=True)
        chat = app.window(other)
        app.type_into(other, app.find(chat, 'text', 'Message'), text, enter=True)
        app.find(chat, 'label', match=r' · (Delivered|Read)$')

    chat = dave.window('Alice Example')
    dave.find(chat, 'label', 'Hello Dave, from one window to another')
    chat = alice.window('Dave Dupont')
    alice.find(chat, 'label', 'Hello Alice, got it')
    # Dave has the conversation in front: Alice's message is read.
    alice.find(chat, 'label', match=r' · Read$')
    alice.screenshot('Dave Dupont', 'two-desktops.png')
    return alice, dave


def test_request_and_key_change(desktop):
    """A stranger's request is plain text, and accepted; an impostor at a
    contact's address gets nothing and the chat says so and won't send."""
    app = started_alice(desktop)
    main = app.main

    carol = Peer(desktop.world, 'Carol').init()
    carol.cli('add', app.invite)
    carol.start('--intro', 'Hi, Carol from accounting: https://example.com/form')
    carol.expect('request-pending', contact='Alice Example')
    app.find(main, 'label', '1 Contact Request')
    app.find(main, 'label', 'Hi, Carol from accounting: https://example.com/form')
    wait_for('the request notification',
             lambda: ('New contact request', '') in desktop.notifications())
    if any('Carol' in summary + body for summary, body in desktop.notifications()):
        raise Failure(f'a notification shows the stranger: {desktop.notifications()}')
    app.screenshot('Contacts — alice', 'request.png')
    app.click(app.find(main, 'push button', match=r'Accept the request from Carol'))
    carol.expect('request-accepted', contact='Alice Example')
    app.find(main, 'panel', match=r'^Carol, Available')

    # Bob's invite, but Mallory listens at Bob's address.
    bob = Peer(desktop.world, 'Bob').init()
    mallory = Peer(desktop.world, 'Mallory').init()
    mallory.port = bob.port
    mallory.cli('add', app.invite)
    alice_cli(desktop, 'add', bob.invite)
    mallory.start()
    app.find(main, 'panel', match=r'^Bob, ')
    alice_cli(desktop, 'send', 'Bob', 'for Bob only')
    wait_for('Bob marked key changed',
             lambda: 'key-changed' in alice_cli(desktop, 'contacts', '--json'))
    mallory.quiet_for(1.0, ('message',))

    app.key('Contacts — alice', 'ctrl+f')
    app.type_into('Contacts — alice', app.find(main, 'entry', 'Find a contact'), 'bob', enter=True)
    chat = app.window('Bob')
    banner = app.find(chat, 'label', match=r'answered at their address with a different key')
    send = app.find(chat, 'push button', 'Send')
    wait_for('sending held', lambda: not send.getState().contains(pyatspi.STATE_SENSITIVE))
    app.screenshot('Bob', 'key-changed.png')

    # The banner's Verify… asks the contact list, which owns the dialog.
    app.click(app.find(chat, 'push button', match=r'^Verify the security key'))
    app.window('Verify Bob')
    app.key('Verify Bob', 'Escape')
    wait_for('“Verify Bob” to close', lambda: 'Verify Bob' not in app.x_titles(), 5)
    mallory.stop()
    return app, carol


def notification_id(desktop, summary):
    """The id the notification server gave the first notification with
    @summary: python-dbusmock numbers new ones 1, 2, … and an update keeps
    its id."""
    count = 0
    with open(desktop.notify_log, encoding='utf-8', errors='replace') as f:
        for line in f:
            m = re.match(r'^\S+ Notify "(.*?)" (\d+) "(.*?)" "(.*?)" ', line)
            if m and m.group(2) == '0':
                count += 1
                if m.group(4) == summary:
                    return count
    raise Failure(f'no notification “{summary}”')


def test_requests_area(desktop):
    """Four strangers at once: the requests show whole, the contact filter
    filters them, Ignore holds while the stranger keeps calling (no new
    request, no new notification), and a click on the request
    notification brings the keyboard to the requests."""
    app = started_alice(desktop)
    main = app.main
    strangers = {}
    for name in ('Dana', 'Erik', 'Fiona', 'Gus'):
        peer = Peer(desktop.world, name).init()
        peer.cli('add', app.invite)
        peer.start('--intro', f'Hello, {name} from the Berlin office')
        strangers[name] = peer
    for peer in strangers.values():
        peer.expect('request-pending', contact='Alice Example')
    app.find(main, 'label', '4 Contact Requests')
    app.screenshot(app.title, 'requests-four.png')

    # The filter of the contact list filters requests too.
    app.key(app.title, 'ctrl+f')
    app.type_into(app.title, app.find(main, 'entry', 'Find a contact'), 'fio')
    requests = app.find(main, 'list', 'Contact requests')

    def shown():
        return [row.name for row in requests
                if row is not None and row.getState().contains(pyatspi.STATE_VISIBLE)]
    wait_for('the requests filtered', lambda: shown() == ['Contact request from Fiona'])
    app.screenshot(app.title, 'requests-filtered.png')
    app.key(app.title, 'ctrl+a', 'BackSpace')
    wait_for('every request shown again', lambda: len(shown()) == 4)

    # Ignore holds: Erik's runner keeps calling; no request comes back.
    notes = len(desktop.notifications())
    app.click(app.find(main, 'push button', match=r'^Ignore the request from Erik'))
    app.find(main, 'label', '3 Contact Requests')
    strangers['Erik'].quiet_for(5.0, ('request-pending',))
    if len(desktop.notifications()) != notes:
        raise Failure(f'a notification after Ignore: {desktop.notifications()[notes:]}')
    if app.find_all(main, 'push button', match=r'^Accept the request from Erik'):
        raise Failure('Erik’s request came back')

    # A click on the notification: the keyboard on the first request.
    nid = notification_id(desktop, 'New contact request')
    subprocess.run(['gdbus', 'call', '--session', '--dest', 'org.freedesktop.Notifications',
                    '--object-path', '/org/freedesktop/Notifications',
                    '--method', 'org.freedesktop.DBus.Mock.EmitSignal',
                    'org.freedesktop.Notifications', 'ActionInvoked', 'us',
                    f'[<uint32 {nid}>, <"default">]'],
                   env=desktop.env, check=True, capture_output=True)
    wait_for('the first request focused',
             lambda: requests.childCount > 0 and
             requests[0].getState().contains(pyatspi.STATE_FOCUSED))
    return (app, *strangers.values())


def test_profiles_side_by_side(desktop):
    """Two profiles of one user on one desktop, default settings: each gets
    a port of its own, both are online, and they talk both ways."""
    first = free_port()
    home = first_run(desktop, 'home', 'Ann at Home', first)
    work = first_run(desktop, 'work', 'Ann at Work', first)
    for app, port in ((home, first), (work, first + 1)):
        if f'%3A{port}&' not in app.invite:
            raise Failure(f'{app.profile}: the invite does not name port {port}: {app.invite}')
        setup = app.window('Welcome to Sotto')
        if [label for label in app.find_all(setup, 'label', match=r'in use by another program')
                if label.getState().contains(pyatspi.STATE_SHOWING)]:
            raise Failure(f'{app.profile}: the first-run page says the port is taken')
        app.click(app.find(setup, 'push button', 'Start Using Sotto'))
        app.title = f'Contacts — {app.profile}'
        app.main = app.window(app.title)

    # Each adds the other from the invite the assistant showed.
    profile_cli(desktop, 'home', 'add', work.invite)
    profile_cli(desktop, 'work', 'add', home.invite)
    home.find(home.main, 'panel', match=r'^Ann at Work, Available')
    work.find(work.main, 'panel', match=r'^Ann at Home, Available')

    for app, other, text in ((home, 'Ann at Work', 'From home to work'),
                             (work, 'Ann at Home', 'From work to home')):
        app.key(app.title, 'ctrl+f')
        app.type_into(app.title, app.find(app.main, 'entry', 'Find a contact'), other.split()[-1],
                      enter=True)
        chat = app.window(other)
        app.type_into(other, app.find(chat, 'text', 'Message'), text, enter=True)
        app.find(chat, 'label', match=r' · (Delivered|Read)$')
    work.find(work.window('Ann at Home'), 'label', 'From home to work')
    home.find(home.window('Ann at Work'), 'label', 'From work to home')
    home.screenshot('Contacts — home', 'profiles-home.png')
    work.screenshot('Ann at Home', 'profiles-work-chat.png')
    return home, work


def test_port_taken(desktop):
    """Another program took the profile's port: the window says so, Sotto
    still connects out, and one click moves it to a free port."""
    app = started(desktop, 'alice', 'Alice Example')
    port = app.port
    bob = Peer(desktop.world, 'Bob').init()
    bob.cli('add', app.invite)
    alice_cli(desktop, 'add', bob.invite)
    app.quit()
    App.running.remove(app)

    squatter = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    squatter.bind(('::', port))
    squatter.listen()
    try:
        bob.start()
        app = App(desktop, 'alice')
        main = app.window('Contacts — alice')
        banner = app.find(main, 'label', match=rf'^Port {port} is in use by another program')
        use = app.find(main, 'push button', match=r'^Use Port \d+$')
        offered = int(use.name.split()[-1])
        # Not listening, still dialling: Bob is online and gets messages.
        bob.expect('connected', contact='Alice Example')
        app.find(main, 'panel', match=r'^Bob, Available')
        alice_cli(desktop, 'send', 'Bob', 'sent from behind a taken port')
        bob.expect('message', body='sent from behind a taken port')
        app.screenshot('Contacts — alice', 'port-taken.png')

        app.click(use)

        def listening():
            try:
                with socket.create_connection(('127.0.0.1', offered), timeout=5):
                    return True
            except OSError:
                return False
        wait_for(f'Sotto to listen on port {offered}', listening)
        wait_for('the banner to go', lambda: not banner.getState().contains(pyatspi.STATE_SHOWING))
        app.screenshot('Contacts — alice', 'port-moved.png')
        invite = alice_cli(desktop, 'invite').strip()
        if f'%3A{offered}&' not in invite:
            raise Failure(f'the invite does not name the new port {offered}: {invite}')
    finally:
        squatter.close()
    bob.stop()
    return app


def test_key_reinstalled(desktop):
    """A colleague set Sotto up again: the chat says their key changed, the
    banner's Verify… shows the numbers of the new key, and marking it
    verified keeps the conversation and sends what waited."""
    app = started_alice(desktop)
    main = app.main
    bob = Peer(desktop.world, 'Bob').init()
    bob.cli('add', app.invite)
    alice_cli(desktop, 'add', bob.invite)
    bob.start()
    app.find(main, 'panel', match=r'^Bob, Available')
    bob.say('send "Alice Example" before the reinstall')
    app.find(main, 'panel', match=r'^Bob, Available, 1 unread message$')
    bob.stop()

    bob2 = peers.reinstall(desktop.world, bob)
    bob2.cli('add', app.invite)
    alice_cli(desktop, 'send', 'Bob', 'sent while the key was in doubt')
    bob2.start()
    wait_for('Bob marked key changed',
             lambda: 'key-changed' in alice_cli(desktop, 'contacts', '--json'))
    bob2.quiet_for(1.0, ('message',))

    app.key(app.title, 'ctrl+f')
    app.type_into(app.title, app.find(main, 'entry', 'Find a contact'), 'bob', enter=True)
    chat = app.window('Bob')
    banner = app.find(chat, 'label', match=r'different key|new security key|key changed')
    app.screenshot('Bob', 'key-reinstalled-banner.png')
    app.click(app.find(chat, 'push button', match=r'^Verify the security key'))
    dialog = app.window('Verify Bob')
    app.find(dialog, 'label', match=r'answered with a new security key')
    shown = ''.join(re.sub(r'\D', '', label.name or '')
                    for label in app.find_all(dialog, 'label', match=r'^\d{5}'))
    expected = re.sub(r'\D', '', bob2.cli('fingerprint', 'Alice Example').stdout)
    if shown != expected:
        raise Failure(f'the dialog shows {shown}, Bob’s new safety number is {expected}')
    app.screenshot('Verify Bob', 'key-reinstalled-verify.png')
    app.click(app.find(dialog, 'push button', 'Mark as Verified'))

    bob2.expect('message', body='sent while the key was in doubt')
    wait_for('the banner to go', lambda: not banner.getState().contains(pyatspi.STATE_SHOWING))
    app.find(chat, 'label', 'before the reinstall')
    contacts = json.loads(alice_cli(desktop, 'contacts', '--json'))
    bobs = [c for c in contacts if c['name'] == 'Bob']
    if len(bobs) != 1 or bobs[0].get('verification') != 'verified':
        raise Failure(f'not one verified Bob: {contacts}')
    app.screenshot('Bob', 'key-reinstalled-accepted.png')
    bob2.stop()
    return app


def test_invite_updates_contact(desktop):
    """Adding the new invite of a colleague who set Sotto up again offers to
    update that contact, not to add a second one of the same name."""
    app = started_alice(desktop)
    main = app.main
    bob = Peer(desktop.world, 'Bob').init()
    alice_cli(desktop, 'add', bob.invite)
    alice_cli(desktop, 'send', 'Bob', 'waiting for the new Bob')
    bob2 = peers.reinstall(desktop.world, bob)
    bob2.cli('add', app.invite)

    app.click(app.find(main, 'push button', 'Add Contact'))
    dialog = app.window('Add Contact')
    app.type_into('Add Contact', app.find(dialog, 'text', 'Invite'), bob2.invite)
    app.find(dialog, 'label', match=r'^You already have a contact called Bob')
    # GTK 4.8 names a button with a mnemonic "_Update Bob Update Bob".
    update = app.find(dialog, 'push button', match=r'Update Bob$')
    app.screenshot('Add Contact', 'invite-updates-contact.png')
    app.click(update)
    wait_for('the dialog to close', lambda: 'Add Contact' not in app.windows())

    contacts = json.loads(alice_cli(desktop, 'contacts', '--json'))
    bobs = [c for c in contacts if c['name'] == 'Bob']
    new_key = re.sub(r'\s', '', bob2.cli('fingerprint').stdout)
    if len(bobs) != 1 or re.sub(r'\s', '', bobs[0]['fingerprint']) != new_key:
        raise Failure(f'not one Bob with the new key {new_key}: {contacts}')
    bob2.start()
    bob2.expect('message', body='waiting for the new Bob')
    app.find(main, 'panel', match=r'^Bob, Available')
    bob2.stop()
    return app


def context_switches(pid):
    total = 0
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith(('voluntary_ctxt_switches:', 'nonvoluntary_ctxt_switches:')):
                total += int(line.split()[1])
    return total


def test_idle(desktop):
    """Shown and left alone, with a chat open, the app sleeps: a window
    that redraws for nothing costs a laptop its battery."""
    app = started_alice(desktop)
    bob = Peer(desktop.world, 'Bob').init()
    alice_cli(desktop, 'add', bob.invite)
    alice_cli(desktop, 'send', 'Bob', 'a message in the open chat')
    # Started again, as every day: the window shows while the profile opens.
    app.quit()
    App.running.remove(app)
    app = App(desktop, 'alice')
    app.title = 'Contacts — alice'
    app.main = app.window(app.title)
    app.find(app.main, 'panel', match=r'^Bob, ')
    time.sleep(3)
    seconds = 10
    before = context_switches(app.pid)
    time.sleep(seconds)
    rate = (context_switches(app.pid) - before) / seconds
    tap(f'# idle app, contact list: {rate:.1f} context switches per second')
    if rate > 2:
        raise Failure(f'the idle contact list switched context {rate:.1f} times per second (at most 2)')
    app.key(app.title, 'ctrl+f')
    app.type_into(app.title, app.find(app.main, 'entry', 'Find a contact'), 'bob', enter=True)
    chat = app.window('Bob')
    app.find(chat, 'label', 'a message in the open chat')
    time.sleep(3)  # whatever was under way (an animation, a save) ends
    seconds = 10
    before = context_switches(app.pid)
    time.sleep(seconds)
    rate = (context_switches(app.pid) - before) / seconds
    tap(f'# idle app, a chat open: {rate:.1f} context switches per second')
    if rate > 2:
        raise Failure(f'the idle app switched context {rate:.1f} times per second (at most 2)')
    return app


def test_notifications(desktop):
    """What notifications say follows the privacy setting; one per
    conversation is updated; none for the conversation in front."""
    app = started_alice(desktop)
    bob = Peer(desktop.world, 'Bob').init()
    bob.cli('add', app.invite)
    alice_cli(desktop, 'add', bob.invite)
    bob.start()
    bob.expect('connected', contact='Alice Example')

    def after(count):
        wait_for(f'notification {count}', lambda: len(message_notes()) >= count)
        return message_notes()[count - 1]

    def message_notes():
        return [n for n in desktop.notifications() if n[0] != 'New contact request']

    bob.say('send Alice lunch <b>today</b> & tomorrow?')
    note = after(1)
    if note != ('Bob', 'lunch &lt;b&gt;today&lt;/b&gt; &amp; tomorrow?'):
        raise Failure(f'sender-and-message: {note}')

    desktop.gsettings('set', 'im.sotto.Sotto', 'notification-content', 'sender-only')
    time.sleep(0.5)
    bob.say('send Alice second message')
    note = after(2)
    if note != ('2 new messages from Bob', ''):
        raise Failure(f'sender-only: {note}')

    desktop.gsettings('set', 'im.sotto.Sotto', 'notification-content', 'nothing')
    time.sleep(0.5)
    bob.say('send Alice third message')
    note = after(3)
    if note != ('New message', ''):
        raise Failure(f'nothing: {note}')
    if any('third' in s + b or 'second' in s + b for s, b in message_notes()[1:]):
        raise Failure(f'text leaked: {message_notes()}')

    # One notification for the conversation: every call replaces the first.
    ids = re.findall(r'Notify "[^"]*" (\d+) ', open(desktop.notify_log).read())
    if len(set(ids[1:])) != 1 or ids[1] == '0':
        raise Failure(f'the notification was not updated in place: replaces ids {ids}')
    first_id = int(ids[1])

    # Clicking the notification opens the conversation: the server says
    # its default action was invoked (dbusmock emits it as the server).
    subprocess.run(['gdbus', 'call', '--session', '--dest', 'org.freedesktop.Notifications',
                    '--object-path', '/org/freedesktop/Notifications',
                    '--method', 'org.freedesktop.DBus.Mock.EmitSignal',
                    'org.freedesktop.Notifications', 'ActionInvoked', 'us',
                    f'[<uint32 {first_id}>, <"default">]'],
                   env=desktop.env, check=True, capture_output=True)
    chat = app.window('Bob')
    app.find(chat, 'label', 'third message')
    subprocess.run(['xdotool', 'windowfocus', '--sync', app.x_window('Bob')], check=True)
    before = len(message_notes())
    bob.say('send Alice while you look')
    app.find(chat, 'label', 'while you look')
    time.sleep(1.0)
    if len(message_notes()) != before:
        raise Failure(f'a notification for the conversation in front: {message_notes()[before:]}')
    return app, bob


def brightness(path):
    return float(subprocess.run(['convert', path, '-colorspace', 'Gray', '-format', '%[fx:mean]',
                                 'info:'], capture_output=True, text=True, check=True).stdout)


def test_passphrase_unlock(desktop):
    """A profile behind a passphrase opens on the unlock window: a wrong
    passphrase is refused and may be tried again, the right one opens the
    contact list, and GTK has nothing to complain about on the way (it
    warns when an entry loses the focus by being disabled)."""
    secret = os.path.join(desktop.world.root, 'passphrase')
    with open(secret, 'w') as f:
        f.write('correct horse battery staple\n')
    os.chmod(secret, 0o600)
    subprocess.run([peers.CLI, '--profile', 'pat', 'init', '--name', 'Pat Example',
                    '--passphrase-file', secret], env=desktop.env, check=True,
                   capture_output=True)

    app = App(desktop, 'pat')
    unlock = app.window('Unlock Sotto')
    entry = app.find(unlock, 'password text', 'Passphrase')
    app.type_into('Unlock Sotto', entry, 'horse battery staple', enter=True)
    app.find(unlock, 'label', 'That passphrase is not the right one. Try again.')
    app.type_into('Unlock Sotto', entry, 'correct horse battery staple', enter=True)
    main = app.window('Contacts — pat')
    app.find(main, 'label', 'No Contacts Yet')
    wait_for('the unlock window to close', lambda: 'Unlock Sotto' not in app.windows())
    if re.search(r'-(WARNING|CRITICAL) \*\*', app.output()):
        raise Failure(f'GTK complained while unlocking:\n{app.output()}')

    # A new passphrase only for whoever knows the current one: anyone at
    # an unlocked screen could otherwise lock Pat out.
    app.key('Contacts — pat', 'ctrl+comma')
    prefs = app.window('Preferences')
    sidebar = app.find(prefs, 'list', match='')
    pages = [row[0].name if row.childCount else row.name for row in sidebar]
    sidebar.querySelection().selectChild(pages.index('Security'))
    app.click(app.find(prefs, 'push button', match=r'Change Passphrase'))
    title = 'Change the Passphrase'
    dialog = app.window(title)
    current = app.find(dialog, 'password text', 'Current passphrase')
    app.type_into(title, current, 'not the passphrase')
    for label in ('New passphrase', 'Repeat the new passphrase'):
        app.key(title, 'Tab')
        app.type_into(title, app.find(dialog, 'password text', label), 'a new passphrase for Pat')
    app.key(title, 'Return')
    app.find(dialog, 'label', 'The current passphrase is not right', timeout=60)
    # The focus is back in the current passphrase, to try again.
    app.key(title, 'ctrl+a')
    app.type_into(title, current, 'correct horse battery staple')
    app.screenshot(title, 'change-passphrase.png')
    app.key(title, 'Return')
    wait_for('the dialog to close', lambda: title not in app.windows(), 60)
    app.quit()
    App.running.remove(app)
    # The old passphrase opens nothing any more; the new one does.
    old = subprocess.run([peers.CLI, '--profile', 'pat', '--passphrase-file', secret, 'contacts'],
                         env=desktop.env, capture_output=True, text=True)
    if old.returncode != 4:
        raise Failure(f'the old passphrase: exit {old.returncode}: {old.stderr}')
    with open(secret, 'w') as f:
        f.write('a new passphrase for Pat\n')
    subprocess.run([peers.CLI, '--profile', 'pat', '--passphrase-file', secret, 'contacts'],
                   env=desktop.env, check=True, capture_output=True)
    return None


def test_dark_style(desktop):
    """The app is dark when the desktop prefers dark, and follows a change."""
    desktop.gsettings('set', 'org.gnome.desktop.interface', 'color-scheme', 'prefer-dark')
    app = App(desktop, 'alice')
    app.window('Welcome to Sotto')
    dark = brightness(app.screenshot('Welcome to Sotto', 'dark.png'))
    if dark > 0.4:
        raise Failure(f'not dark with prefer-dark: mean brightness {dark:.2f}')

    desktop.gsettings('set', 'org.gnome.desktop.interface', 'color-scheme', 'default')
    wait_for('the light style',
             lambda: brightness(app.screenshot('Welcome to Sotto', 'light.png')) > 0.6, 10, 0.5)
    return app


def alice_and_bob(desktop):
    """Alice's app and Bob, a `sotto-cli run` colleague, contacts of each
    other and connected."""
    app = started_alice(desktop)
    bob = Peer(desktop.world, 'Bob').init()
    bob.cli('add', app.invite)
    alice_cli(desktop, 'add', bob.invite)
    bob.start()
    bob.expect('connected', contact='Alice Example')
    return app, bob


def open_chat(app, name):
    """The chat with a contact, opened from the contact list's search."""
    app.key(app.title, 'ctrl+f')
    app.type_into(app.title, app.find(app.main, 'entry', 'Find a contact'), name.lower(),
                  enter=True)
    return app.window(name)


def test_auto_away(desktop):
    """auto-away-minutes: nobody touches this desktop for a minute (the X11
    screen saver extension's idle time, on Xvfb), and Bob sees Alice away;
    a move of the mouse, and she is available again. The status menu
    follows."""
    desktop.gsettings('set', 'im.sotto.Sotto', 'auto-away-minutes', '1')
    app, bob = alice_and_bob(desktop)
    bob.expect('presence', contact='Alice Example', presence='available')
    # A minute after the desktop's last input.
    bob.expect('presence', contact='Alice Example', presence='away', timeout=100)
    app.screenshot(app.title, 'auto-away.png')
    subprocess.run(['xdotool', 'mousemove', '--sync', '200', '200'], env=desktop.env,
                   check=True)
    bob.expect('presence', contact='Alice Example', presence='available', timeout=20)
    return app, bob


def test_link_in_chat(desktop):
    """A link in a message that imitates another site is marked in the
    chat before anyone clicks it."""
    app, bob = alice_and_bob(desktop)
    main = app.main
    bob.say('send Alice please sign in at https://www.\u0440\u0430\u0443\u0440\u0430l.com/signin today')
    app.find(main, 'panel', match=r'^Bob, Available, 1 unread message$')

    chat = open_chat(app, 'Bob')
    # The look-alike link is marked as odd before anyone clicks it: its
    # letters read exactly like the real site's. (A click opens the link
    # dialog, which tests/gtk/test-link-dialog.c drives: GTK 4.8 gives a
    # label's links no accessible object to click.)
    app.find(chat, 'label', match='\u0440\u0430\u0443\u0440\u0430l\\.com/signin\u2069 \u26a0 today$')
    app.screenshot('Bob', 'link-in-chat.png')
    return app, bob


def test_file_in_chat(desktop):
    """A colleague sends a file between two messages: the chat shows the
    offer among them, nothing arrives until Accept, and the file lands in
    the download folder, checked."""
    app, bob = alice_and_bob(desktop)
    bob.say('send Alice here is the site plan')
    bob.expect('delivered')
    source = os.path.join(desktop.world.root, 'site-plan.pdf')
    with open(source, 'wb') as f:
        f.write(b'%PDF-1.7\n' + os.urandom(300000) + b'\n%%EOF\n')
    bob.cli('send-file', 'Alice', source)
    bob.say('send Alice tell me what you think')
    bob.expect('delivered')
    # Told, by the notification content setting (the default: who and what).
    wait_for('a notification of the offer',
             lambda: any(s == 'Bob offers you a file' and b.startswith('site-plan.pdf (')
                         for s, b in desktop.notifications()))

    chat = open_chat(app, 'Bob')
    app.find(chat, 'label', match=r'Waiting for your answer$')
    app.find(chat, 'label', 'tell me what you think')
    # In time order among the messages, not apart from them.
    texts = [n.name for n in pyatspi.findAllDescendants(chat, lambda n: n.getRoleName() == 'label')]
    order = [next((i for i, t in enumerate(texts) if t == wanted), None)
             for wanted in ('here is the site plan', 'site-plan.pdf', 'tell me what you think')]
    if None in order or order != sorted(order):
        raise Failure(f'the file is not between the two messages: {texts}')
    folder = os.path.join(desktop.env['HOME'], 'Downloads', 'Sotto')
    if os.path.exists(folder) and os.listdir(folder):
        raise Failure(f'something arrived before Accept: {os.listdir(folder)}')
    app.screenshot('Bob', 'file-offer-in-chat.png')
    app.click(app.find(chat, 'push button', match=r'^Accept the file'))
    bob.expect('file-done', contact='Alice Example')
    app.find(chat, 'label', match=r' · Received; ')
    app.find(chat, 'push button', match=r'^Show the file in its folder')
    saved = os.path.join(folder, 'site-plan.pdf')
    with open(source, 'rb') as a, open(saved, 'rb') as b:
        if a.read() != b.read():
            raise Failure(f'{saved} is not what Bob sent')
    if os.stat(saved).st_mode & 0o777 != 0o600:
        raise Failure(f'{saved} has mode {os.stat(saved).st_mode & 0o777:o}')
    app.screenshot('Bob', 'file-received-in-chat.png')
    # Open… names what the file is first (the guard reads it in a thread).
    app.click(app.find(chat, 'push button', match=r'^Open the file'))
    # (Its heading says whether this machine's scanner could check it.)
    heading = wait_for('the file dialog', lambda: next(
        (t for t in ('Open this file?', 'This file may not be what it seems')
         if t in app.x_titles()), None))
    app.find(app.dialog(heading), 'label', match=r'^Content: PDF document')
    app.key(heading, 'Escape')
    wait_for('the file dialog to close', lambda: heading not in app.x_titles(), 5)
    return app, bob


def png_size(path):
    """(width, height) from a PNG file's header; a Failure if it is none."""
    with open(path, 'rb') as f:
        head = f.read(24)
    if head[:8] != b'\x89PNG\r\n\x1a\n' or head[12:16] != b'IHDR':
        raise Failure(f'{path} is not a PNG file')
    return int.from_bytes(head[16:20], 'big'), int.from_bytes(head[20:24], 'big')


def test_paste_picture(desktop):
    """A screenshot pasted into the message box is shown first and sent
    as a PNG file only after Send; the copy Sotto kept to send it is gone
    once the colleague has it."""
    app, bob = alice_and_bob(desktop)
    picture = os.path.join(desktop.world.root, 'screenshot.png')
    subprocess.run(['convert', '-size', '320x200', 'gradient:orange-navy', picture], check=True)
    # The clipboard holds a picture and no text, as after a screenshot.
    clip = subprocess.Popen(['xclip', '-quiet', '-selection', 'clipboard', '-t', 'image/png',
                             '-i', picture], env=desktop.env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    desktop.procs.append(clip)

    chat = open_chat(app, 'Bob')
    app.key('Bob', 'ctrl+v')
    dialog = app.dialog('Send the pasted picture?')
    unnamed = app.unnamed_controls(dialog)
    if unnamed:
        raise Failure('controls without an accessible name in the picture dialog:\n  ' +
                      '\n  '.join(unnamed))
    app.find(dialog, 'label', match=r'^Bob will get it as a PNG file of 320 × 200 pixels\.')
    app.screenshot('Send the pasted picture?', 'paste-picture.png')
    # Nothing leaves before Send.
    bob.quiet_for(0.5, ('file-offer',))
    app.click(app.find(dialog, 'push button', 'Send'))

    offer = bob.expect('file-offer', contact='Alice Example')
    if not re.match(r'^Pasted picture \d{4}-\d\d-\d\d \d\d\.\d\d\.\d\d\.png$', offer['name']):
        raise Failure(f'the picture was offered as {offer["name"]!r}')
    app.find(chat, 'label', match=r'Waiting for your contact to accept$')
    copies = glob.glob(os.path.join(desktop.env['XDG_DATA_HOME'], 'sotto', '*', 'outgoing', '*',
                                    '*.png'))
    if len(copies) != 1:
        raise Failure(f'expected one copy kept to send, found {copies}')
    target = os.path.join(desktop.world.root, 'bob-files')
    os.makedirs(target)
    bob.cli('accept-file', offer['id'], '--to', target)
    bob.expect('file-done', id=offer['id'])
    saved = os.path.join(target, offer['name'])
    if png_size(saved) != (320, 200):
        raise Failure(f'Bob got a picture of {png_size(saved)}, not 320 × 200')
    app.find(chat, 'label', match=r'Received by your contact$')
    wait_for('the copy kept to send the picture to be removed',
             lambda: not os.path.exists(copies[0]), 10)
    app.screenshot('Bob', 'paste-picture-sent.png')
    return app, bob


def test_every_window_named(desktop):
    """Each window and dialog a person opens from the contact list names
    every control for a screen reader (the screenshots check it), and
    Escape closes it."""
    app = started_alice(desktop)
    main = app.main
    bob = Peer(desktop.world, 'Bob').init()
    alice_cli(desktop, 'add', bob.invite)
    row = app.find(main, 'panel', match=r'^Bob, ')

    def closes(title):
        app.key(title, 'Escape')
        wait_for(f'“{title}” to close', lambda: title not in app.x_titles(), 5)

    def from_main_menu(item):
        app.click(app.find(main, 'push button', 'Main Menu'))
        app.x_window(MENU_WINDOW)
        app.click(app.find(main, 'menu item', item))

    def from_contact_menu(item):
        app.click(app.find(contact_menu(app, row), 'menu item', item))

    def message_dialog(text):
        dialog = app.dialog(text)
        unnamed = app.unnamed_controls(dialog)
        if unnamed:
            raise Failure(f'controls without an accessible name in “{text}”:\n  ' +
                          '\n  '.join(unnamed))
        app.key(text, 'Escape')
        wait_for(f'“{text}” to close', lambda: text not in app.x_titles(), 5)

    for keys, title, shot in (('ctrl+comma', 'Preferences', 'preferences-window.png'),
                              ('ctrl+n', 'Add Contact', 'add-contact.png'),
                              ('ctrl+question', 'Keyboard Shortcuts', 'shortcuts.png')):
        app.key(app.title, keys)
        app.window(title)
        app.screenshot(title, shot)
        closes(title)

    for item, title, shot in (('Show My Invite', 'Your Invite', 'invite.png'),
                              ('About Sotto', 'About Sotto', 'about.png')):
        from_main_menu(item)
        app.window(title)
        app.screenshot(title, shot)
        closes(title)

    from_contact_menu('Verify Security Key…')
    app.window('Verify Bob')
    app.screenshot('Verify Bob', 'verify.png')
    closes('Verify Bob')

    from_contact_menu('Rename…')
    message_dialog('Rename Bob')
    from_contact_menu('Remove…')
    message_dialog('Remove Bob?')
    # Escape is "no": Bob stays.
    if not re.search(r'^Bob\t', alice_cli(desktop, 'contacts'), re.M):
        raise Failure(f'Escape removed Bob: {alice_cli(desktop, "contacts")}')

    app.key(app.title, 'ctrl+comma')
    prefs = app.window('Preferences')
    # The History page, chosen in the sidebar: a button on a page that
    # does not show can't be pressed.
    sidebar = app.find(prefs, 'list', match='')
    pages = [row[0].name if row.childCount else row.name for row in sidebar]
    sidebar.querySelection().selectChild(pages.index('History'))
    app.click(app.find(prefs, 'push button', 'Delete All History…'))
    message_dialog('Delete all history?')
    closes('Preferences')
    return app


ADMIN_EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data',
                             'admin', 'dconf', 'db', 'sotto.d')


def insensitive(node):
    return not node.getState().contains(pyatspi.STATE_SENSITIVE)


def test_admin_policy(desktop):
    """README's administrator example (data/admin), deployed through a
    dconf profile: what it locks is greyed out and says "Set by your
    administrator"; what it forbids, the app says before anyone tries."""
    db = os.path.join(desktop.world.root, 'admin-db')
    subprocess.run(['dconf', 'compile', db, ADMIN_EXAMPLE], check=True)
    dconf_profile = os.path.join(desktop.world.root, 'admin-profile')
    with open(dconf_profile, 'w') as f:
        f.write(f'user-db:user\nfile-db:{db}\n')
    env = dict(desktop.env)
    env['GSETTINGS_BACKEND'] = 'dconf'
    env['DCONF_PROFILE'] = dconf_profile
    app = started(desktop, 'alice', 'Alice Example', env=env)
    bob = Peer(desktop.world, 'Bob').init()
    profile_cli(desktop, 'alice', 'add', bob.invite, env=env)

    # Only verified contacts get messages and files: the chat says so, and
    # neither the message box nor the paperclip can be used.
    chat = open_chat(app, 'Bob')
    app.find(chat, 'label', match=r'^Your administrator allows messages and files only to '
             r'verified contacts: verify Bob’s security key first$')
    attach = app.find(chat, 'push button', 'Send a File')
    if not insensitive(attach):
        raise Failure('the paperclip can be used for a contact that is not verified')
    app.screenshot('Bob', 'policy-chat.png')
    app.key('Bob', 'Escape')

    app.key(app.title, 'ctrl+comma')
    prefs = app.window('Preferences')
    for name in ('Send only to verified contacts', 'Allow deleting history',
                 'Allow contact requests', 'Keep conversation history'):
        control = app.find(prefs, 'check box', name)   # GTK 4.8's role for a GtkSwitch
        if not insensitive(control):
            raise Failure(f'“{name}” can be changed though the administrator locked it')
        if control.description != 'Set by your administrator':
            raise Failure(f'“{name}” does not say who set it: {control.description!r}')
    sidebar = app.find(prefs, 'list', match='')
    pages = [row[0].name if row.childCount else row.name for row in sidebar]
    sidebar.querySelection().selectChild(pages.index('History'))
    if not insensitive(app.find(prefs, 'push button', 'Delete All History…')):
        raise Failure('Delete All History can be used though the administrator forbids it')
    app.find(prefs, 'label', 'Set by your administrator')
    app.screenshot('Preferences', 'policy-preferences-history.png')
    app.key('Preferences', 'Escape')

    # `sotto-cli policy` says the same.
    entries = {e['key']: e for e in json.loads(profile_cli(desktop, 'alice', 'policy', '--json',
                                                           env=env))}
    if not (entries['history-user-delete']['locked'] and
            entries['history-user-delete']['source'] == 'administrator'):
        raise Failure(f'policy: {entries["history-user-delete"]}')

    # What was refused is in the security log, in Preferences: a purge the
    # administrator forbids, and a caller that sent garbage.
    refused = subprocess.run([peers.CLI, '--profile', 'alice', 'purge', '--all'], env=env,
                             capture_output=True, text=True)
    if refused.returncode == 0:
        raise Failure('purge --all went through though the administrator forbids it')
    # Under the administrator's settings the app listens where they say.
    listening = subprocess.run(['ss', '-Hltnp'], capture_output=True, text=True).stdout
    port = next(int(line.split()[3].rsplit(':', 1)[1]) for line in listening.splitlines()
                if f'pid={app.proc.pid},' in line)
    with socket.create_connection(('127.0.0.1', port)) as garbage:
        garbage.sendall(b'\0\0not a handshake')
        garbage.settimeout(TIMEOUT)
        garbage.recv(1)
    app.key(app.title, 'ctrl+comma')
    prefs = app.window('Preferences')
    sidebar = app.find(prefs, 'list', match='')
    pages = [row[0].name if row.childCount else row.name for row in sidebar]
    sidebar.querySelection().selectChild(pages.index('Security Log'))
    log = app.find(prefs, 'list', 'Security log')
    app.find(log, 'list item', match=r'^Refused by policy \(deleting history\): Your '
             r'administrator')
    app.find(log, 'list item', match=r'^Refused 1 connection from 127\.0\.0\.1: the handshake '
             r'failed')
    app.screenshot('Preferences', 'security-log.png')

    # Every locked key is listed on the Security page, also one that has
    # no control of its own.
    sidebar.querySelection().selectChild(pages.index('Security'))
    managed = app.find(prefs, 'list', 'Set by Your Administrator')
    app.find(managed, 'list item', match=r'^Shortest passphrase, in characters: 12$')
    app.screenshot('Preferences', 'policy-security.png')
    sidebar.querySelection().selectChild(pages.index('Files and Links'))
    files = app.find(prefs, 'check box', 'Send and receive files')
    if not insensitive(files) or files.description != 'Set by your administrator':
        raise Failure('the locked files switch can be changed, or does not say who set it')
    app.screenshot('Preferences', 'policy-files.png')
    app.key('Preferences', 'Escape')
    return app


def run(tests):
    selected = sys.argv[3:]
    plan = [t for t in tests if not selected or t.__name__ in selected]
    tap(f'1..{len(plan)}')
    failed = 0
    for n, test in enumerate(plan, 1):
        desktop = Desktop()
        started = []
        try:
            result = test(desktop)
            for part in (result if isinstance(result, tuple) else (result,)):
                if part is not None:
                    started.append(part)
            for part in started:
                if isinstance(part, App):
                    part.quit()
                else:
                    part.stop()
            tap(f'ok {n} {test.__name__}')
        except Exception as e:
            failed += 1
            tap(f'not ok {n} {test.__name__}')
            for line in traceback.format_exc().splitlines():
                tap(f'# {line}')
            # What the screen looked like, for whoever reads the log.
            os.makedirs(SHOTS, exist_ok=True)
            subprocess.run(['import', '-window', 'root',
                            os.path.join(SHOTS, f'failed-{test.__name__}.png')])
            for app in App.running:
                tap('# ' + app.profile + ': ' + app.output().replace('\n', '\n# '))
        finally:
            for app in App.running:
                if app.proc.poll() is None:
                    app.proc.kill()
                    app.proc.wait()
            App.running.clear()
            desktop.cleanup()
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    run([test_first_run_and_chat, test_request_and_key_change, test_notifications,
         test_two_desktops, test_profiles_side_by_side, test_port_taken, test_key_reinstalled,
         test_invite_updates_contact, test_idle, test_passphrase_unlock, test_dark_style,
         test_requests_area, test_link_in_chat, test_file_in_chat, test_paste_picture,
         test_admin_policy, test_auto_away,
         test_every_window_named])
