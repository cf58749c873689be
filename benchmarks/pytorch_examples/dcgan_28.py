"""dcgan_main.py at 28 x 28, the size of MNIST and Fashion-MNIST: the original's two networks with one stride-2 stage
fewer (ngf * 8 and ndf * 8 go; 4 -> 7 takes a 3 x 3 kernel, 7 -> 4 its mirror), as examples/pytorch/dcgan.cpp ports
them. Everything else in the original runs as written. The changes are text replacements of the vendored file, each
checked: a file that no longer holds a replaced text stops with that sentence.

    source_28(source, dataset)   the original's source at 28 x 28; dataset "fashion-mnist" reads FashionMNIST
    networks(nz, ngf, ndf, nc)   (Generator, Discriminator) classes of that source, without running the training
"""
import ast

GENERATOR = (
    """            nn.ConvTranspose2d(     nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            # state size. (ngf*8) x 4 x 4
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # state size. (ngf*4) x 8 x 8
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 16 x 16
            nn.ConvTranspose2d(ngf * 2,     ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 32 x 32
            nn.ConvTranspose2d(    ngf,      nc, 4, 2, 1, bias=False),
            nn.Tanh()
            # state size. (nc) x 64 x 64
""",
    """            nn.ConvTranspose2d(     nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # state size. (ngf*4) x 4 x 4
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 3, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 7 x 7
            nn.ConvTranspose2d(ngf * 2,     ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 14 x 14
            nn.ConvTranspose2d(    ngf,      nc, 4, 2, 1, bias=False),
            nn.Tanh()
            # state size. (nc) x 28 x 28
""")

DISCRIMINATOR = (
    """            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*4) x 8 x 8
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*8) x 4 x 4
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
""",
    """            nn.Conv2d(ndf * 2, ndf * 4, 3, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*4) x 4 x 4
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False),
""")


def replace(source, old, new):
    if source.count(old) != 1:
        raise SystemExit("dcgan_28: the vendored dcgan_main.py no longer holds the text this script replaces: "
                         + old.strip().splitlines()[0])
    return source.replace(old, new)


def source_28(source, dataset="mnist"):
    source = replace(source, *GENERATOR)
    source = replace(source, *DISCRIMINATOR)
    if dataset == "fashion-mnist":  # torchvision's FashionMNIST reads the same file names from FashionMNIST/raw/
        source = replace(source, "dataset = dset.MNIST(", "dataset = dset.FashionMNIST(")
    return source


def networks(source, nz=100, ngf=64, ndf=64, nc=1):
    """The Generator and Discriminator classes of the original at 28 x 28, defined alone (main.py trains at import)."""
    import torch
    import torch.nn as nn
    tree = ast.parse(source_28(source))
    body = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name in ("Generator", "Discriminator")]
    ns = {"torch": torch, "nn": nn, "nz": nz, "ngf": ngf, "ndf": ndf, "nc": nc}
    exec(compile(ast.Module(body=body, type_ignores=[]), "dcgan_main.py", "exec"), ns)
    return ns["Generator"], ns["Discriminator"]


def draw(generator, n, seed, batch=64):
    """n images in [0, 1] from N(0, I) noise, batches of 64 with the generator in training mode (batch statistics),
    as the original draws its fake_samples figures; (n, 1, 28, 28) float32."""
    import torch
    torch.manual_seed(seed)
    generator.train()
    out = []
    with torch.no_grad():
        for first in range(0, n, batch):
            out.append(generator(torch.randn(min(batch, n - first), 100, 1, 1)))
    return ((torch.cat(out) + 1) / 2).numpy().astype("float32")
