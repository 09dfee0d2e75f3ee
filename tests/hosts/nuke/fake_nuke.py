"""A strict fake of the `nuke` module, following the Nuke Python API reference (learn.foundry.com/nuke/developers,
nuke module: Node, Group, Knob classes, nodes, execute, ProgressTask, message, delete, callbacks) and the public
`types-nuke` 13.2.8.0 stubs (_nuke.pyi, callbacks.pyi), whose signatures each method below copies:

  Node: Class, name, knob, knobs, addKnob, removeKnob, input, inputs, setInput, firstFrame, lastFrame, xpos, ypos,
        setXYpos, __getitem__;  Group: begin, end, node, nodes
  Node: setName(name, uncollide);  Knob: Class, name, label, value, setValue, setFlag, clearFlag, getFlag, setTooltip, setExpression, setVisible,
        setEnabled, toScript;  Array_Knob.setRange;  Enumeration_Knob.values, setValues, numValues, enumName
  module: nodes.<Class>(**knobs), root, allNodes, toNode, delete, execute(node, start, end, incr), message,
        tprint, menu(name).addMenu/addCommand/addSeparator/clearMenu,
        ProgressTask(message).setMessage/setProgress/isCancelled, GUI, INVISIBLE,
        addOnCreate / addKnobChanged / addUpdateUI / addBeforeRender (call, args, kwargs, nodeClass), thisNode,
        thisKnob
Knob names per node class are the real ones (Read: file first last origfirst origlast before after; Write: file
file_type; Dissolve and Switch: which; Text2: message box; Group/all nodes: label tile_color disable).
Only what Matchcut uses exists; a wrong knob class, knob name, method or argument shape raises. Test-only
controls start with an underscore or are module attributes the real module lacks (calls, execute_hook,
cancel_after_progress, run_callbacks)."""
from __future__ import annotations

INVISIBLE = 0x400
GUI = True
_ALL = []
calls = []
_callbacks = {"onCreate": [], "knobChanged": [], "updateUI": [], "beforeRender": []}
_this = {"node": None, "knob": None}


class Knob:
    def __init__(self, name, label=None, *rest):
        if not isinstance(name, str):
            raise TypeError("knob name must be str")
        self._name, self._label, self._value, self._flags, self._expr = name, label, None, 0, None
        self._visible, self._enabled, self._tooltip = True, True, ""

    def name(self): return self._name
    def Class(self): return type(self).__name__
    def label(self): return self._label or ""
    def setLabel(self, label): self._label = str(label)
    def value(self): return self._value
    def setValue(self, value): self._value = value; return True
    def setFlag(self, flag): self._flags |= int(flag)
    def clearFlag(self, flag): self._flags &= ~int(flag)
    def getFlag(self, flag): return bool(self._flags & int(flag))
    def setTooltip(self, text): self._tooltip = str(text)
    def setExpression(self, expression, index=-1, view=None): self._expr = str(expression); return True
    def setVisible(self, visible): self._visible = bool(visible)
    def setEnabled(self, enabled): self._enabled = bool(enabled)
    def visible(self): return self._visible
    def toScript(self, quote=False, context=None): return repr(self._value) if self._expr is None else "{" + self._expr + "}"


class Array_Knob(Knob):
    def setRange(self, low, high): self._range = (float(low), float(high))


class Double_Knob(Array_Knob):
    def setValue(self, value, chan=-1): self._value = float(value); return True


class Int_Knob(Array_Knob):
    def setValue(self, value, chan=-1): self._value = int(value); return True


class Color_Knob(Array_Knob):
    """Nuke's quirk kept: value() is one float while the channels are equal, a list once they differ."""
    def __init__(self, name, label=None, *rest):
        super().__init__(name, label)
        self._value = [0.0, 0.0, 0.0]

    def setValue(self, value, chan=-1):
        self._value = [float(v) for v in value] if isinstance(value, (list, tuple)) else [float(value)] * 3
        return True

    def value(self, index=None):
        if index is not None:
            return self._value[index]
        return self._value[0] if len(set(self._value)) == 1 else list(self._value)


class Boolean_Knob(Array_Knob):
    def setValue(self, value, chan=-1): self._value = bool(value); return True

    def value(self): return bool(self._value)


class String_Knob(Knob):
    def setValue(self, value, view="default"):
        if not isinstance(value, str):
            raise TypeError("String_Knob.setValue expects str")
        self._value = value

    def value(self, oc=None): return self._value if self._value is not None else ""


class File_Knob(String_Knob): pass
class Tab_Knob(Knob): pass


class Enumeration_Knob(Array_Knob):
    def __init__(self, name, label, items):
        super().__init__(name, label)
        if not isinstance(items, list):
            raise TypeError("Enumeration_Knob(name, label, items: list)")
        self._items = [str(i) for i in items]
        self._value = 0

    def setValue(self, value, chan=-1):
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value < max(1, len(self._items)):
                raise ValueError(value)
            self._value = value
        elif value in self._items:
            self._value = self._items.index(value)
        else:
            raise ValueError("{!r} is not an item of {}".format(value, self._name))
        return True

    def value(self): return self._items[self._value] if self._items else ""
    def getValue(self, channel=0): return float(self._value)
    def values(self): return list(self._items)
    def numValues(self): return len(self._items)
    def enumName(self, n): return self._items[n]

    def setValues(self, items):
        current = self.value()
        self._items = [str(i) for i in items]
        self._value = self._items.index(current) if current in self._items else 0


class Text_Knob(Knob):
    def __init__(self, name, label="", text=""):
        super().__init__(name, label)
        self._value = text

    def setValue(self, value, chan=-1):
        self._value = str(value)
        return True


class PyScript_Knob(Knob):
    def __init__(self, name, label, command=""):
        super().__init__(name, label)
        self._value = command


COMMON_KNOBS = ("label", "tile_color", "disable")
DEFAULT_KNOBS = {"Read": ("file", "first", "last", "origfirst", "origlast", "before", "after"),
                 "Write": ("file", "file_type", "channels"), "Dissolve": ("which",), "Switch": ("which",),
                 "Text2": ("message", "box"), "NoOp": (), "StickyNote": (), "Group": (), "Input": ("number",),
                 "Output": (), "Root": ("first_frame", "last_frame")}
READ_MODES = ("hold", "loop", "bounce", "black")
_stack = []


class Node:
    def __init__(self, cls, **kw):
        if cls not in DEFAULT_KNOBS:
            raise AttributeError(f"no node class {cls}")
        self._cls, self._knobs, self._inputs, self._children, self._xy = cls, {}, {}, [], (0, 0)
        for k in DEFAULT_KNOBS[cls] + COMMON_KNOBS:
            self._knobs[k] = Knob(k)
        if cls == "Read":
            for k in ("before", "after"):
                self._knobs[k] = Enumeration_Knob(k, k, list(READ_MODES))
            self._knobs["file"] = File_Knob("file")
        self._name = kw.pop("name", f"{cls}{len(_ALL) + 1}")
        for k, v in kw.items():
            self[k].setValue(v)
        self._parent = _stack[-1] if _stack and _stack[-1] is not _root else None
        (self._parent._children if self._parent else _ALL).append(self)
        for call, args, kwargs, node_class in list(_callbacks["onCreate"]):
            if node_class in ("*", cls):
                _with_this(self, None, call, args, kwargs)

    def Class(self): return self._cls
    def name(self): return self._name
    def __getitem__(self, name): return self._knobs[name]
    def knob(self, name): return self._knobs.get(name)
    def __eq__(self, other): return self is other
    def __hash__(self): return id(self)
    def knobs(self): return dict(self._knobs)
    def addKnob(self, knob):
        if not isinstance(knob, Knob):
            raise TypeError("addKnob expects a Knob")
        self._knobs[knob.name()] = knob
    def removeKnob(self, knob):
        if self._knobs.get(knob.name()) is not knob:
            raise ValueError("removeKnob: {} is not a knob of {}".format(knob.name(), self._name))
        del self._knobs[knob.name()]
    def setInput(self, i, node): self._inputs[int(i)] = node; return True
    def input(self, i): return self._inputs.get(i)
    def inputs(self): return (max(self._inputs) + 1) if self._inputs else 0
    def firstFrame(self): return self._range()[0]
    def lastFrame(self): return self._range()[1]
    def _range(self):
        if self._cls == "Read":
            return int(self["first"].value() or 0), int(self["last"].value() or 0)
        upstream = self.input(0)
        if upstream is not None:
            return upstream._range()
        return int(_root["first_frame"].value()), int(_root["last_frame"].value())
    def xpos(self): return self._xy[0]
    def ypos(self): return self._xy[1]
    def setXYpos(self, x, y): self._xy = (int(x), int(y))
    def setName(self, name, uncollide=False, updateExpressions=False):
        siblings = self._parent._children if getattr(self, "_parent", None) else _ALL
        taken = {n.name() for n in siblings if n is not self}
        if name in taken and not uncollide:
            raise ValueError("a node named {} exists".format(name))
        base, count = name, 1
        while name in taken:
            name, count = "{}{}".format(base, count), count + 1
        self._name = name
    def begin(self):
        if self._cls not in ("Group", "Root"): raise RuntimeError("begin() on a non-Group")
        _stack.append(self)
    def end(self): _stack.pop()
    def node(self, name): return next((n for n in self._children if n.name() == name), None)
    def nodes(self): return list(self._children)


class _Nodes:
    def __getattr__(self, cls):
        if cls not in DEFAULT_KNOBS or cls == "Root":
            raise AttributeError(f"no node class {cls}")
        return lambda **kw: Node(cls, **kw)


nodes = _Nodes()
_root = Node.__new__(Node)
_root._cls, _root._knobs, _root._name = "Root", {"first_frame": Knob("first_frame"), "last_frame": Knob("last_frame")}, "root"
_root._knobs["first_frame"].setValue(1)
_root._knobs["last_frame"].setValue(1)
_root._children, _root._inputs, _root._parent = _ALL, {}, None


def root(): return _root
def allNodes(filter=None, group=None, recurseGroups=False):
    found, todo = [], list(_ALL)
    while todo:
        node = todo.pop(0)
        found.append(node)
        if recurseGroups:
            todo.extend(getattr(node, "_children", []))
    return [n for n in found if filter is None or n.Class() == filter]
def toNode(name): return next((n for n in _ALL if n.name() == name), None)


def delete(node):
    siblings = node._parent._children if getattr(node, "_parent", None) else _ALL
    if node in siblings:
        siblings.remove(node)


execute_hook = None


def execute(nameOrNode, start, end, incr=1, views=None, continueOnError=False):
    if not isinstance(nameOrNode, Node) or nameOrNode.Class() != "Write":
        raise TypeError("execute(Write node, start, end, incr)")
    calls.append(("execute", nameOrNode["file"].value(), int(start), int(end), int(incr)))
    if execute_hook: execute_hook(nameOrNode, int(start), int(end))


def message(prompt): calls.append(("message", str(prompt)))
def tprint(*args, sep=" ", end="\n", file=None): calls.append(("tprint", sep.join(str(a) for a in args)))


cancel_after_progress = None  # test control: isCancelled() turns True once progress reached this value


class ProgressTask:
    def __init__(self, message): self._message, self.progress = str(message), []
    def setMessage(self, text): self._message = str(text)
    def setProgress(self, value):
        if not isinstance(value, int) or not 0 <= value <= 100: raise ValueError("setProgress expects int 0-100")
        self.progress.append(value); calls.append(("progress", value))
    def isCancelled(self):
        return cancel_after_progress is not None and bool(self.progress) and max(self.progress) >= cancel_after_progress


def _add(kind, call, args=(), kwargs=None, nodeClass="*"):
    if not callable(call) or not isinstance(args, tuple) or not isinstance(nodeClass, str):
        raise TypeError("add{}(call, args=(), kwargs={{}}, nodeClass='*')".format(kind))
    _callbacks[kind].append((call, args, kwargs or {}, nodeClass))


def addOnCreate(call, args=(), kwargs=None, nodeClass="*"): _add("onCreate", call, args, kwargs, nodeClass)
def addKnobChanged(call, args=(), kwargs=None, nodeClass="*", node=None): _add("knobChanged", call, args, kwargs, nodeClass)
def addUpdateUI(call, args=(), kwargs=None, nodeClass="*"): _add("updateUI", call, args, kwargs, nodeClass)
def addBeforeRender(call, args=(), kwargs=None, nodeClass="Write"): _add("beforeRender", call, args, kwargs, nodeClass)


class Menu:
    def __init__(self, name): self._name, self.items = name, {}
    def addMenu(self, name, icon=None, tooltip=None, index=-1):
        return self.items.setdefault(str(name), Menu(name))
    def addCommand(self, name, command=None, shortcut="", icon="", tooltip="", index=-1, readonly=False):
        if not (callable(command) or isinstance(command, str)):
            raise TypeError("addCommand(name, command: callable or str)")
        self.items[str(name)] = command

    def addSeparator(self, **kwargs):
        self._separators = getattr(self, "_separators", 0) + 1
        self.items["-{}".format(self._separators)] = None

    def clearMenu(self):
        self.items.clear()

    def _commands(self):
        """Test control: the command names in order, separators left out."""
        return [name for name, command in self.items.items() if command is not None]


_menus = {}


def menu(name):
    if name not in ("Nuke", "Nodes", "Pane", "Viewer", "Node Graph", "Properties", "Animation"):
        raise RuntimeError("no menu {}".format(name))
    return _menus.setdefault(name, Menu(name))


def thisNode(): return _this["node"]
def thisKnob(): return _this["knob"]


def _with_this(node, knob, call, args, kwargs):
    previous = dict(_this)
    _this.update(node=node, knob=knob)
    try:
        return call(*args, **kwargs)
    finally:
        _this.update(previous)


def run_callbacks(kind, node, knob=None):
    """Test control: what Nuke does when ``kind`` fires for ``node`` (knobChanged: with ``knob``)."""
    for call, args, kwargs, node_class in list(_callbacks[kind]):
        if node_class in ("*", node.Class()):
            _with_this(node, knob, call, args, kwargs)


def reset():
    """Test control: a fresh session (no nodes, no callbacks, no calls)."""
    del _ALL[:]
    del calls[:]
    for registered in _callbacks.values():
        del registered[:]
    _this.update(node=None, knob=None)
    _menus.clear()
    _root["first_frame"].setValue(1)
    _root["last_frame"].setValue(1)
    globals()["execute_hook"] = None
    globals()["cancel_after_progress"] = None
