"""A strict fake of the `nuke` module, following the Nuke Python API reference (learn.foundry.com/nuke/developers,
nuke module: Node, Knob classes, nodes, execute, ProgressTask, message, delete, addBeforeRender, menu) and
hosts.md section 1. Only what Matchcut uses exists; a wrong knob class, method or argument shape raises."""
from __future__ import annotations

INVISIBLE = 0x400
_ALL = []
calls = []


class Knob:
    def __init__(self, name, label=None, *rest):
        if not isinstance(name, str):
            raise TypeError("knob name must be str")
        self._name, self._label, self._value, self._flags, self._expr = name, label, None, 0, None

    def name(self): return self._name
    def value(self): return self._value
    def setValue(self, value): self._value = value; return True
    def setFlag(self, flag): self._flags |= int(flag)
    def setTooltip(self, text): self._tooltip = str(text)
    def setExpression(self, expr): self._expr = str(expr); return True
    def toScript(self): return repr(self._value)


class Array_Knob(Knob):
    def setRange(self, low, high): self._range = (float(low), float(high))


class Double_Knob(Array_Knob): pass
class Int_Knob(Array_Knob): pass
class Color_Knob(Array_Knob): pass
class Boolean_Knob(Knob): pass
class File_Knob(Knob): pass
class String_Knob(Knob): pass
class Tab_Knob(Knob): pass


class Enumeration_Knob(Knob):
    def __init__(self, name, label, items):
        super().__init__(name, label)
        if not isinstance(items, list):
            raise TypeError("Enumeration_Knob(name, label, items: list)")
        self._items = items

    def setValue(self, value):
        if value not in self._items and not isinstance(value, int):
            raise ValueError(value)
        self._value = value
        return True


class Text_Knob(Knob):
    def __init__(self, name, label="", text=""):
        super().__init__(name, label)
        self._value = text


class PyScript_Knob(Knob):
    def __init__(self, name, label, command=""):
        super().__init__(name, label)
        self._value = command


DEFAULT_KNOBS = {"Read": ("file", "first", "last"), "Write": ("file", "file_type"), "Dissolve": ("which",),
                 "StickyNote": ("label",), "Group": ("label",), "Input": ("name",), "Output": (), "Root": ("first_frame", "last_frame")}
_stack = []


class Node:
    def __init__(self, cls, **kw):
        if cls not in DEFAULT_KNOBS:
            raise AttributeError(f"no node class {cls}")
        self._cls, self._knobs, self._inputs, self._children, self._xy = cls, {}, {}, [], (0, 0)
        for k in DEFAULT_KNOBS[cls]:
            self._knobs[k] = Knob(k)
        self._name = kw.pop("name", f"{cls}{len(_ALL) + 1}")
        for k, v in kw.items():
            self[k].setValue(v)
        (_stack[-1]._children if _stack else _ALL).append(self)

    def Class(self): return self._cls
    def name(self): return self._name
    def __getitem__(self, name): return self._knobs[name]
    def knob(self, name): return self._knobs.get(name)
    def knobs(self): return dict(self._knobs)
    def addKnob(self, knob):
        if not isinstance(knob, Knob):
            raise TypeError("addKnob expects a Knob")
        self._knobs[knob.name()] = knob
    def setInput(self, i, node): self._inputs[int(i)] = node; return True
    def input(self, i): return self._inputs.get(i)
    def inputs(self): return (max(self._inputs) + 1) if self._inputs else 0
    def xpos(self): return self._xy[0]
    def ypos(self): return self._xy[1]
    def setXYpos(self, x, y): self._xy = (int(x), int(y))
    def begin(self):
        if self._cls != "Group": raise RuntimeError("begin() on a non-Group")
        _stack.append(self)
    def end(self): _stack.pop()
    def node(self, name): return next((n for n in self._children if n.name() == name), None)


class _Nodes:
    def __getattr__(self, cls):
        return lambda **kw: Node(cls, **kw)


nodes = _Nodes()
_root = Node.__new__(Node)
_root._cls, _root._knobs, _root._name = "Root", {"first_frame": Knob("first_frame"), "last_frame": Knob("last_frame")}, "root"
_root._knobs["first_frame"].setValue(1)
_root._knobs["last_frame"].setValue(1)


def root(): return _root
def allNodes(filter=None): return [n for n in _ALL if filter is None or n.Class() == filter]
def delete(node): _ALL.remove(node) if node in _ALL else None


execute_hook = None


def execute(node, start, end, incr=1):
    if not isinstance(node, Node) or node.Class() != "Write":
        raise TypeError("execute(Write node, start, end, incr)")
    calls.append(("execute", node["file"].value(), int(start), int(end), int(incr)))
    if execute_hook: execute_hook(node, int(start), int(end))


def message(text): calls.append(("message", str(text)))


class ProgressTask:
    def __init__(self, message): self._message, self.progress = str(message), []
    def setMessage(self, text): self._message = str(text)
    def setProgress(self, value):
        if not isinstance(value, int) or not 0 <= value <= 100: raise ValueError("setProgress expects int 0-100")
        self.progress.append(value); calls.append(("progress", value))
    def isCancelled(self): return False
