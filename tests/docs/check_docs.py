#!/usr/bin/env python3
"""The manual's links resolve and the README stays the front page the CI and users rely on.

Checks README.md and docs/*.md: every relative link names a file that exists and, with a
#fragment into a Markdown file, a heading there (GitHub's anchor rules). With --ctsqs BINARY,
also that the README's command table names every subcommand of `ctsqs --help` (and of each
command group such as `ctsqs ledger`). Always: the README's test command is the script .ci/run
runs, and its first C++ block is examples/1_embed/drain_into_your_sink.cpp verbatim. Exit 0 when all hold, 1 naming each failure.
"""
import argparse, glob, os, re, subprocess, sys

def slug(heading):
    h = heading.strip().lower()
    h = re.sub(r'[^\w\- ]', '', h)   # GitHub drops punctuation: backticks, dots, colons, slashes
    return h.replace(' ', '-')

def anchors(path):
    out, seen, fence = set(), {}, False
    for line in open(path, encoding='utf-8'):
        if line.startswith('```'):
            fence = not fence
        if fence:
            continue
        m = re.match(r'#{1,6} (.*)', line)
        if m:
            s = slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else f'{s}-{n}')
    return out

def check_links(root):
    errors = []
    files = [os.path.join(root, 'README.md')] + sorted(glob.glob(os.path.join(root, 'docs', '*.md')))
    for f in files:
        text = re.sub(r'```.*?```', '', open(f, encoding='utf-8').read(), flags=re.S)
        for m in re.finditer(r'\]\(([^)\s]+)\)', text):
            url = m.group(1)
            if re.match(r'[a-z]+:', url):
                continue  # https:, mailto:, ...
            target, _, frag = url.partition('#')
            path = os.path.normpath(os.path.join(os.path.dirname(f), target)) if target else f
            rel = os.path.relpath(f, root)
            if not os.path.exists(path):
                errors.append(f'{rel}: link {url}: no such file')
            elif frag and path.endswith('.md') and frag not in anchors(path):
                errors.append(f'{rel}: link {url}: no heading with that anchor in {os.path.relpath(path, root)}')
    return errors, len(files)

def subcommands(ctsqs, *args):
    out = subprocess.run([ctsqs, *args, '--help'], capture_output=True, text=True, check=True).stdout
    names, inside = [], False
    for line in out.splitlines():
        if line.startswith('Subcommands:'):
            inside = True
        elif inside and re.match(r'  \S', line):
            names.append(line.split()[0])
        elif inside and line and not line.startswith(' '):
            inside = False
    return names

def check_command_table(root, ctsqs):
    readme = open(os.path.join(root, 'README.md'), encoding='utf-8').read()
    table = '\n'.join(l for l in readme.splitlines() if l.startswith('|'))
    errors = []
    for name in subcommands(ctsqs):
        groups = subcommands(ctsqs, name)
        for full in ([f'{name} {g}' for g in groups] if groups else [name]):
            if f'`ctsqs {full}' not in table:
                errors.append(f'README.md: the command table does not name `ctsqs {full}`')
    return errors

def check_test_command(root):
    readme = open(os.path.join(root, 'README.md'), encoding='utf-8').read()
    ci = open(os.path.join(root, '.ci', 'run'), encoding='utf-8').read()
    m = re.search(r'^exec (\S+)', ci, flags=re.M)
    if not m:
        return ['.ci/run: no `exec SCRIPT` line found']
    if not re.search(r'^' + re.escape(m.group(1)) + r'\s', readme, flags=re.M):
        return [f'README.md: the test command {m.group(1)} (what .ci/run runs) is not one of its command lines']
    return []

def check_embedding_example(root):
    # The README's C++ block is the ten-line example verbatim: ctest builds and runs that file,
    # so the README can only show a program that compiles and drains.
    src = 'examples/1_embed/drain_into_your_sink.cpp'
    path = os.path.join(root, src)
    if not os.path.exists(path):
        return [f'{src}: missing (the README shows it as the embedding example)']
    readme = open(os.path.join(root, 'README.md'), encoding='utf-8').read()
    blocks = re.findall(r'```cpp\n(.*?)```', readme, flags=re.S)
    prog = open(path, encoding='utf-8').read()
    if not blocks:
        return ['README.md: no ```cpp block (the embedding example)']
    if blocks[0].strip() != prog.strip():
        return [f'README.md: its first C++ block is not {src} verbatim']
    return []

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--root', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    ap.add_argument('--ctsqs', help='the CLI binary, to check the command table against its --help')
    a = ap.parse_args()
    root = os.path.normpath(a.root)
    errors, n = check_links(root)
    errors += check_test_command(root)
    errors += check_embedding_example(root)
    if a.ctsqs:
        errors += check_command_table(root, a.ctsqs)
    for e in errors:
        print(e)
    print(f'{len(errors)} problem(s) in README.md and {n - 1} docs/ page(s)', file=sys.stderr)
    return 1 if errors else 0

if __name__ == '__main__':
    sys.exit(main())
